# Tiny VQA for CPU tests on the fixture files in tests/data/vqa (official schema).
_base_ = [
    '../_base_/models/vlbert-tiny_faster-rcnn-r18-c4.py',
    '../_base_/datasets/vqa_v2.py',
    '../_base_/schedules/vqa_5e.py',
    '../_base_/default_runtime.py',
]
tokenizer = 'pkg://minilm-l6'
data_root = 'tests/data/vqa/'
pipeline = [
    dict(type='LoadVLImage', on_bad_sample='raise'),
    dict(type='CheckedResize', scale=(128, 96), keep_ratio=True),
    dict(type='Tokenize', tokenizer=tokenizer, max_length=24, mask_as_text_b=True),
    dict(type='PackVLInputs', meta_keys={{_base_.meta_keys}}, task_keys={{_base_.task_keys}}),
]
dataset = dict(type='VQAv2Dataset', data_root=data_root, answer_vocab=data_root + 'answers.txt',
               ann_file='v2_OpenEnded_mscoco_train2014_questions.json',
               answer_file='v2_mscoco_train2014_annotations.json',
               data_prefix=dict(img='train2014/'), pipeline=pipeline)
model = dict(
    region_encoder=dict(box_source='detector', max_det_boxes=5),
    heads=dict(vqa=dict(type='VQAHead', num_answers=4, classifier_hidden=64)))
train_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False,
                        dataset=dataset)
val_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False,
                      dataset=dict(dataset, test_mode=True))
test_dataloader = val_dataloader
optim_wrapper = dict(optimizer=dict(lr=1e-3))
param_scheduler = [dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=2)]
train_cfg = dict(max_epochs=2, val_interval=2)
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=2))
randomness = dict(seed=0)
