# No detector inside: the region features come precomputed with the data
# (`LoadRegionFeatures`); the VL-BERT skeleton (../vlbert_e2e.py) as `model`, as the
# detector bases give it.
_base_ = '../vlbert_e2e.py'
model = {{_base_.vlbert_e2e}}
