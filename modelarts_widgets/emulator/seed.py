"""Realistic training-job configs for the emulator: engines, versions, mixed-language descriptions."""

from __future__ import annotations

import random
import time
from typing import Any

from . import contract

# Ten of the engine catalog's entries (engine_type, engine_name, engine_id, engine_version);
# the count stays ten so that seeded configs come out as before for a given seed.
ENGINES = tuple((t, n, i, v) for i, n, v, t in contract.ENGINES if i != 1)
MODELS = ("resnet50", "bert", "yolov5", "unet", "gpt2", "vit", "xgb", "lstm", "mobilenet", "deeplab")
TASKS = ("imagenet", "finetune-cn", "coco", "seg", "ocr", "churn", "asr", "nlu", "detect", "ranking")
VARIANTS = ("v1", "v2", "v3", "lr001", "bs64", "fp16", "exp", "tmp", "test", "old")
DESCRIPTIONS = (
    "Baseline hyperparameters for the nightly run",
    "图像分类训练参数，学习率0.01",
    "中文语料微调 / Chinese fine-tuning, batch 32",
    "Copied from the team notebook <img src=x onerror=alert(1)>",
    "<b>bold</b> & \"quoted\" settings <script>alert('x')</script>",
    "Experiment from the hackathon, safe to delete",
    "",
    "Ascend 910 trial — 8 cards, mixed precision",
    "Old config kept for reproducibility of the 2024 paper",
    "tmp: delete me",
)
FLAVORS = tuple(sid for sid, *_rest in contract.SPECS if sid in (1, 4, 5, 7))


def make_config(name: str, rng: random.Random, *, now_ms: int, desc: str | None = None) -> dict[str, Any]:
    """One config with every field the details call documents."""
    engine_type, engine_name, engine_id, engine_version = rng.choice(ENGINES)
    spec_id = rng.choice(FLAVORS)
    bucket = rng.choice(("ml-team", "research-data", "obs-demo"))
    return {
        "config_name": name,
        "config_desc": rng.choice(DESCRIPTIONS) if desc is None else desc,
        "create_time": now_ms - rng.randint(0, 500 * 86_400_000),
        "engine_type": engine_type,
        "engine_name": engine_name,
        "engine_id": engine_id,
        "engine_version": engine_version,
        "user_image_url": "",
        "user_command": "",
        "worker_server_num": rng.choice((1, 1, 2, 4)),
        "app_url": f"/{bucket}/code/{name}/",
        "boot_file_url": f"/{bucket}/code/{name}/train.py",
        "model_id": 0,
        "parameter": [
            {"label": "learning_rate", "value": rng.choice(("0.01", "0.001", "0.0003"))},
            {"label": "batch_size", "value": rng.choice(("32", "64", "128"))},
        ],
        "spec_id": spec_id,
        **(contract.spec(spec_id) or {}),  # spec_code, cpu, core, gpu_num, gpu_type as listed
        "data_url": f"/{bucket}/data/{name.split('-', maxsplit=1)[0]}/",
        "dataset_id": "",
        "dataset_version_id": "",
        "dataset_name": "",
        "dataset_version_name": "",
        "data_source": [{"type": "obs", "data_url": f"/{bucket}/data/{name.split('-', maxsplit=1)[0]}/"}],
        "train_url": f"/{bucket}/output/{name}/",
        "log_url": f"/{bucket}/logs/{name}/",
        "pool_id": "",
        "pool_name": "",
        "volumes": [],
        "nas_mount_path": "",
        "nas_share_addr": "",
        "nas_type": "nfs",
    }


def seed_configs(count: int, *, seed: int = 0, now_ms: int | None = None) -> list[dict[str, Any]]:
    """``count`` configs with unique, valid names; a few ``prod-`` ones to show protection."""
    rng = random.Random(seed)
    now = now_ms if now_ms is not None else int(time.time() * 1000)
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < count:
        base = "-".join((rng.choice(MODELS), rng.choice(TASKS), rng.choice(VARIANTS)))
        if len(names) % 12 == 5:
            base = "prod-" + base
        name = base
        suffix = 2
        while name in seen:
            name = f"{base}_{suffix}"
            suffix += 1
        seen.add(name)
        names.append(name)
    return [make_config(name, rng, now_ms=now) for name in names]
