# The VCR fixture for CPU tests (tests/data/vcr, the official schema), Q->A: 128x96
# images, choices cut at 24 word pieces, MiniLM's tokenizer (nothing downloaded),
# batches of 2, no workers.
_base_ = './vcr.py'
tokenizer = 'pkg://minilm-l6'
# the base's steps with the fixture's values (MMEngine resolved the base's variables
# when it read the base, so they are set again here)
fixture_changes = dict(CheckedResize=dict(scale=(128, 96)),
                       TokenizeChoices=dict(tokenizer=tokenizer, max_length=24))
pipeline = [dict(t, **fixture_changes.get(t.type, {})) for t in _base_.pipeline]
# merged into the base's loaders, which keep their annotation files and test_mode
train_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False,
                        dataset=dict(data_root='tests/data/vcr/', pipeline=pipeline))
val_dataloader = test_dataloader = train_dataloader
