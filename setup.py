"""Install vlbert_e2e. The heavy stack (torch, mmcv built from source, mmdet, ...) is
installed by ``tools/install/setup_env.sh`` (``make test`` runs it); ``pip install -e .``
only registers the package and its configs."""
import os
import shutil

from setuptools import find_packages, setup


def _link_configs() -> None:
    """Expose ``configs/`` as package data ``vlbert_e2e/.mim/configs`` (mim style)."""
    here = os.path.dirname(os.path.abspath(__file__))
    mim = os.path.join(here, 'vlbert_e2e', '.mim')
    os.makedirs(mim, exist_ok=True)
    dst = os.path.join(mim, 'configs')
    if os.path.islink(dst) or os.path.exists(dst):
        return
    try:
        os.symlink(os.path.join('..', '..', 'configs'), dst)
    except OSError:
        shutil.copytree(os.path.join(here, 'configs'), dst)


def _requirements() -> list:
    with open('requirements.txt') as f:
        lines = [ln.split('#')[0].strip() for ln in f]
    return [ln for ln in lines if ln and not ln.startswith(('pytest', 'gt-all'))]


if __name__ == '__main__':
    _link_configs()
    setup(
        name='vlbert_e2e',
        version='0.1.0',
        description='End-to-end trainable VL-BERT on MMDetection and transformers',
        python_requires='>=3.11',
        packages=find_packages(exclude=('tests', 'tools', 'configs')),
        include_package_data=True,
        package_data={'vlbert_e2e': ['.mim/configs/**/*.py']},
        install_requires=_requirements() + ['mmcv==2.1.0'],
        license='Apache-2.0',
    )
