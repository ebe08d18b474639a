#!/usr/bin/env python3
"""Writes fixtures/aliyun.json, the Alibaba default fixture of shared/spec/aliyun.md §8.2: tenant
imgemu-dev-ak owns demoinstance1 with five 128x128 PNGs. Deterministic: running it again reproduces
the committed file byte for byte."""

import base64
import importlib.util
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

spec = importlib.util.spec_from_file_location("images", os.path.join(HERE, "gen-jd-fixture-images.py"))
images = importlib.util.module_from_spec(spec)
spec.loader.exec_module(images)

SIZE = 128


def ramp_lr(x, y):
    return x * 255 // (SIZE - 1)


def ramp_lr_inverted_corner(x, y):
    v = ramp_lr(x, y)
    return 255 - v if x < 32 and y < 32 else v


def ramp_tb(x, y):
    return y * 255 // (SIZE - 1)


def checker16(x, y):
    return 0 if (x // 16 + y // 16) % 2 == 0 else 255


def ramp_diag(x, y):
    return (x + y) * 255 // (2 * (SIZE - 1))


def png(gray):
    return base64.b64encode(images.encode_png(SIZE, SIZE, gray)).decode("ascii")


def image(product_id, pic_name, category, pattern, custom="", ints=(), strs=()):
    ints = list(ints) + [0] * (4 - len(ints))
    strs = list(strs) + [""] * (4 - len(strs))
    return {
        "ProductId": product_id,
        "PicName": pic_name,
        "CategoryId": category,
        "Region": "0,127,0,127",
        "CustomContent": custom,
        "IntAttr": ints[0],
        "IntAttr2": ints[1],
        "IntAttr3": ints[2],
        "IntAttr4": ints[3],
        "StrAttr": strs[0],
        "StrAttr2": strs[1],
        "StrAttr3": strs[2],
        "StrAttr4": strs[3],
        "PicContent": png(pattern),
    }


doc = {
    "format": "imgemu-state",
    "version": 1,
    "aliyun": {
        "tenants": {
            "imgemu-dev-ak": {
                "instances": [
                    {
                        "Name": "demoinstance1",
                        "Region": "ap-southeast-1",
                        "ServiceType": 0,
                        "Capacity": 10,
                        "Qps": 10,
                        "Status": "available",
                        "UtcCreate": 1767225600000,
                        "UtcExpireTime": 1798761600000,
                        "ImageLimit": 100000,
                        "Images": [
                            image("2092061_1", "namexxx.jpg", 88888888, ramp_lr, "zidingyi", (2, 20, 33, 33), ("ss", "test", "ss", "ss")),
                            image("2092061_1", "namexxx_2.jpg", 88888888, ramp_lr_inverted_corner, "", (2, 10), ("ss", "test")),
                            image("2092061_2", "red_shirt.jpg", 0, ramp_tb, "red shirt", (5, 10), ("red", "shirt")),
                            image("2092061_3", "blue_shoe.png", 4, checker16, "", (7, 30, 1), ("blue", "shoe")),
                            image("2092061_4", "snack.png", 6, ramp_diag, "", (-1, 20, 33), ("ss", "snack", "x")),
                        ],
                    }
                ]
            }
        }
    },
}

with open(os.path.join(ROOT, "fixtures", "aliyun.json"), "w", encoding="utf-8") as out:
    json.dump(doc, out, ensure_ascii=False, indent=1)
    out.write("\n")
