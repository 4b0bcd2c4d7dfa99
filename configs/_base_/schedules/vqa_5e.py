# The original VQA fine-tuning recipe: AdamW, 5 epochs, warmup 500 then linear decay,
# lr 6.25e-7 per sample (jackroos/VL-BERT cfgs/vqa/base_4x16G_fp32.yaml and
# large_4x16G_fp32.yaml: LR 6.25e-7), here for the configs' total batch of 256.
_base_ = './finetune_adamw.py'
optim_wrapper = dict(optimizer=dict(lr=6.25e-7 * 256))
