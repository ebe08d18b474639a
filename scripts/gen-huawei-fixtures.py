#!/usr/bin/env python3
"""Writes fixtures/huawei.json, the Huawei default fixtures of shared/spec/huawei.md §2.3: the dev
project's UpdateImage reference image and four gold images. Deterministic."""

import json
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEV_PROJECT = "0b1e494e2660441a957313163095fe5c"
GOLD_OWNER = "0" * 32


def links(image_id):
    return {"file": f"/v2/images/{image_id}/file", "self": f"/v2/images/{image_id}", "schema": "/v2/schemas/image"}


def base(image_id):
    return {
        "id": image_id,
        "status": "active",
        "tags": [],
        "checksum": "99914b932bd37a50b983c5e7c90ae93b",
        "container_format": "bare",
        "min_ram": 0,
        "min_disk": 40,
        "size": 2,
        "virtual_size": 0,
        "deleted": False,
        "deleted_at": None,
        "virtual_env_type": "FusionCompute",
        "__os_bit": "64",
        "__isregistered": "true",
        "__image_source_type": "uds",
        "__image_size": "449261568",
        "__backup_id": "",
        "__productcode": "",
        "__data_origin": None,
        "__support_fc_inject": "true",
        "hw_vif_multiqueue_enabled": "true",
        **links(image_id),
    }


dev_id = "33ad552d-1149-471c-8190-ff6776174a00"
images = [
    {
        **base(dev_id),
        "name": "ims_test",
        "visibility": "private",
        "owner": DEV_PROJECT,
        "protected": False,
        "disk_format": "vhd",
        "created_at": "2015-12-04T09:45:33Z",
        "updated_at": "2015-12-08T02:30:49Z",
        "active_at": "2015-12-04T09:51:05Z",
        "__os_version": "Ubuntu 14.04 server 64bit",
        "__os_type": "Linux",
        "__platform": "Ubuntu",
        "__description": "ims test",
        "__imagetype": "private",
        "__originalimagename": dev_id,
        "hw_firmware_type": "bios",
        "enterprise_project_id": "0",
    }
]

GOLD = [
    ("5e5f2d1a-2f0c-4c52-9a7e-0c1b9d1e6a01", "Ubuntu 22.04 server 64bit", "Ubuntu", "Linux", "bios", False),
    ("8c3f1a7e-6b2d-4e9f-8a51-3d7e2c9b0f02", "CentOS 7.9 64bit", "CentOS", "Linux", "bios", False),
    ("a1d4e6f8-3c5b-4a7d-9e2f-6b8c0d1e2f03", "Windows Server 2019 Datacenter 64bit English", "Windows", "Windows", "bios", False),
    ("f0e1d2c3-b4a5-4968-8776-5a4b3c2d1e04", "Huawei Cloud EulerOS 2.0 Standard 64 bit (ARM)", "Huawei Cloud EulerOS", "Linux", "uefi", True),
]
for image_id, name, platform, os_type, firmware, arm in GOLD:
    gold = {
        **base(image_id),
        "name": name,
        "visibility": "public",
        "owner": GOLD_OWNER,
        "protected": True,
        "disk_format": "zvhd2",
        "created_at": "2023-05-10T08:00:00Z",
        "updated_at": "2023-05-10T08:00:00Z",
        "active_at": "2023-05-10T08:00:00Z",
        "__os_version": name,
        "__os_type": os_type,
        "__platform": platform,
        "__imagetype": "gold",
        "__originalimagename": "",
        "hw_firmware_type": firmware,
        "__support_kvm": "true",
    }
    if arm:
        gold["__support_arm"] = "true"
    images.append(gold)

images.sort(key=lambda i: i["id"])
doc = {"format": "imgemu-state", "version": 1, "huawei": {"images": images, "jobs": []}}
with open(os.path.join(ROOT, "fixtures", "huawei.json"), "w", encoding="utf-8") as out:
    json.dump(doc, out, ensure_ascii=False, indent=1)
    out.write("\n")
