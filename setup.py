"""paddle_tricks: CNN design tricks and the networks of five Paddle tutorials, reproduced and tested."""
from setuptools import find_packages, setup

setup(
    name="paddle_tricks",
    version="0.1.0",
    description="CNN design tricks (ACNet, AsymmNet, BlurPool, DropBlock, DyReLU, ACON, ...) as tested "
                "PaddlePaddle layers, a model zoo and a config-driven trainer",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    packages=find_packages(include=["paddle_tricks", "paddle_tricks.*"]),
    package_data={"paddle_tricks": ["configs/*.yaml", "configs/*/*.yaml", "configs/*/*/*.yaml",
                                    "configs/*/*/*/*.yaml"]},
    python_requires=">=3.9",
    install_requires=[
        "numpy>=1.23,<2.4",          # paddle.flops fails under numpy 2.4
        "PyYAML>=6.0",
        "Pillow>=9.0",
        "visualdl>=2.5",
        "matplotlib>=3.6",
        "tqdm>=4.60",
        "safetensors>=0.4",          # weights and checkpoints without pickle (engine/state_file.py)
        "adjustText>=1.0",           # compare: plot labels moved apart so that none overlap
    ],
    extras_require={
        "cpu": ["paddlepaddle>=2.6"],
        "gpu": ["paddlepaddle-gpu>=2.6"],
        "onnx": ["paddle2onnx>=2.0", "onnxruntime>=1.16"],
        "test": ["paddlepaddle>=2.6", "pytest>=7.0", "paddle2onnx>=2.0", "onnxruntime>=1.16", "nbclient>=0.7",
                 "nbformat>=5.7", "ipykernel>=6.0", "pandas>=1.5", "jupytext>=1.14", "pyflakes>=3.0",
                 "wheel"],   # wheel: the non-editable install test builds without isolation
    },
    entry_points={"console_scripts": [
        "paddle-tricks=paddle_tricks.cli:main",
        "paddle-tricks-train=paddle_tricks.cli:train_main",
        "paddle-tricks-eval=paddle_tricks.cli:eval_main",
    ]},
)
