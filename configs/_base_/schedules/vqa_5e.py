# The original VQA fine-tuning recipe: AdamW, 5 epochs, warmup 500 then linear decay.
_base_ = './finetune_adamw.py'
optim_wrapper = dict(optimizer=dict(lr=6.25e-7 * 256))
