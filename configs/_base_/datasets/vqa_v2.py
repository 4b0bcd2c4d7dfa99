# VQA v2 on COCO images, official files read directly. Build the answer vocabulary with
# tools/dataset_converters/build_vqa_answer_vocab.py (top 3129 training answers).
tokenizer = 'bert-base-uncased'
data_root = 'data/vqa/'
answer_vocab = data_root + 'answers_vqa.txt'
meta_keys = ('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor', 'flip',
             'flip_direction', 'question_id', 'gt_answers', 'answer_type', 'text')
task_keys = ('answer_indices', 'answer_weights', 'answer_position')
train_pipeline = [
    dict(type='LoadVLImage', on_bad_sample='raise'),
    dict(type='CheckedResize', scale=(1000, 600), keep_ratio=True),
    dict(type='Tokenize', tokenizer=tokenizer, max_length=40, mask_as_text_b=True),
    dict(type='PackVLInputs', meta_keys=meta_keys, task_keys=task_keys),
]
test_pipeline = train_pipeline
train_dataloader = dict(
    batch_size=32, num_workers=4, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(
        type='VQAv2Dataset', data_root=data_root, answer_vocab=answer_vocab,
        ann_file='v2_OpenEnded_mscoco_train2014_questions.json',
        answer_file='v2_mscoco_train2014_annotations.json',
        data_prefix=dict(img='train2014/'), pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=32, num_workers=4, persistent_workers=True, drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='vlbert_e2e.pseudo_collate'),  # drops samples skipped at test time
    dataset=dict(
        type='VQAv2Dataset', data_root=data_root, answer_vocab=answer_vocab,
        ann_file='v2_OpenEnded_mscoco_val2014_questions.json',
        answer_file='v2_mscoco_val2014_annotations.json',
        data_prefix=dict(img='val2014/'), test_mode=True, pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='VQAAccuracy')
test_evaluator = val_evaluator
