# The pretraining fixture for CPU tests: tests/data/cc (captions with boxes and class
# distributions) + tests/data/corpus.txt, 128x96 images, 32 word pieces, MiniLM's
# tokenizer (nothing downloaded), batches of 4 (2 + 2), no workers.
_base_ = './cc-text_pretrain.py'
tokenizer = 'pkg://minilm-l6'
max_length = 32
# the base's steps with the fixture's values (MMEngine resolved the base's variables
# when it read the base, so they are set again here)
fixture_changes = dict(
    CheckedResize=dict(scale=(128, 96)),
    Tokenize=dict(tokenizer=tokenizer, max_length=max_length),
    MaskText=dict(tokenizer=tokenizer),
    MaskRoIs=dict(prob=0.5))
cc_pipeline = [dict(t, **fixture_changes.get(t.type, {})) for t in _base_.cc_pipeline]
text_pipeline = [dict(t, **fixture_changes.get(t.type, {})) for t in _base_.text_pipeline]
train_dataloader = dict(
    batch_size=4,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(batch_size=4, seed=0),
    dataset=dict(datasets=[
        dict(_base_.cc_dataset, data_root='tests/data/cc/', ann_file='manifest.jsonl',
             data_prefix=dict(img='images/'), pipeline=cc_pipeline),
        dict(_base_.text_dataset, data_root='tests/data/', tokenizer=tokenizer,
             min_pieces=16, pipeline=text_pipeline),
    ]))
