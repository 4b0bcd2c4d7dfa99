"""Join VCR Q->A and QA->R results (VCRAccuracy's outfile) into Q->AR accuracy.

python tools/analysis_tools/vcr_joint_accuracy.py work_dirs/q2a.json work_dirs/qa2r.json
"""
import argparse
import json
import sys

from vlbert_e2e.evaluation.functional.vcr_eval import vcr_joint_accuracy


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('q2a', help='results file of the Q->A model')
    p.add_argument('qa2r', help='results file of the QA->R model')
    args = p.parse_args(argv)
    loaded = []
    for path in (args.q2a, args.qa2r):
        try:
            with open(path) as f:
                loaded.append(json.load(f))
        except (OSError, json.JSONDecodeError) as e:
            sys.exit(f'error: cannot read {path}: {e}')
    try:
        acc = vcr_joint_accuracy(*loaded)
    except KeyError as e:
        sys.exit(f'error: {e.args[0]}')
    print(json.dumps(acc, indent=2))


if __name__ == '__main__':
    main()
