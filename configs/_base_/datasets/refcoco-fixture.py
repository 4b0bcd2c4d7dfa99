# The RefCOCO fixture for CPU tests (tests/data/refcoco, the official schema): 128x96
# images, expressions cut at 16 word pieces, MiniLM's tokenizer (nothing downloaded),
# batches of 4, no workers; testing scores the val split.
_base_ = './refcoco.py'
tokenizer = 'pkg://minilm-l6'
# the base's steps with the fixture's values (MMEngine resolved the base's variables
# when it read the base, so they are set again here)
fixture_changes = dict(CheckedResize=dict(scale=(128, 96)),
                       Tokenize=dict(tokenizer=tokenizer, max_length=16))
pipeline = [dict(t, **fixture_changes.get(t.type, {})) for t in _base_.pipeline]
dataset = dict(_base_.dataset, data_root='tests/data/refcoco/', pipeline=pipeline)
train_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False,
                        dataset=dict(dataset, split='train'))
val_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False,
                      dataset=dict(dataset, split='val', test_mode=True))
test_dataloader = val_dataloader
test_evaluator = dict(type='GroundingAccuracy', prefix='refcoco_val')
