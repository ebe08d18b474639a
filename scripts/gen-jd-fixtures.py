#!/usr/bin/env python3
"""Writes fixtures/jd.json, the JD default fixtures of shared/spec/jd.md §8.1, from the images that
scripts/gen-jd-fixture-images.py generates (256x256 PNGs, one pattern each). Deterministic: running
it again reproduces the committed file byte for byte."""

import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

images = json.loads(
    subprocess.run(
        [sys.executable, os.path.join(HERE, "gen-jd-fixture-images.py")], check=True, capture_output=True, text=True
    ).stdout
)

MILK_INFO = '{"Ingredients":"wheat flour, milkfat, edible salt", "price":"12.0"}'

doc = {
    "format": "imgemu-state",
    "version": 1,
    "jd": {
        "tenants": {
            "imgemu-dev-ak": {
                "collections": [
                    {
                        "collection_name": "food",
                        "images": [
                            {"image_name": "Milk_salt_soda_v1", "info": MILK_INFO, "content": images["ramp_lr"]},
                            {"image_name": "Green_tea_v2", "info": '{"price":"8.5"}', "content": images["ramp_tb"]},
                            {"image_name": "Rice_cracker_v1", "content": images["checker32"]},
                        ],
                    }
                ],
                "product_collection": {
                    "collection_name": "shop",
                    "products": [
                        {
                            "product_id": "65337027695",
                            "product_name": "苏打饼干",
                            "category": "其他",
                            "images": [
                                {"image_id": "1002039492343.jpg", "image_info": "salt soda", "content": images["ramp_diag"]},
                                {"image_id": "1002039492344.jpg", "content": images["ramp_rl"]},
                            ],
                        },
                        {
                            "product_id": "65337027696",
                            "product_name": "帆布鞋",
                            "category": "鞋靴",
                            "images": [
                                {"image_id": "1002039492345.jpg", "image_info": "canvas shoe", "content": images["checker64"]},
                            ],
                        },
                    ],
                },
                "tasks": [],
            }
        }
    },
}

with open(os.path.join(ROOT, "fixtures", "jd.json"), "w", encoding="utf-8") as out:
    json.dump(doc, out, ensure_ascii=False, indent=1)
    out.write("\n")
