"""JD Cloud NeuHub image search through the unmodified official Python client (PyPI
`jdcloud-apim-sdk-core`, import `jdcloud_apim_sdk`): SimpleClient + SimpleRequest, every request
signed with JDCLOUD2-HMAC-SHA256 by the SDK itself, against the binary in strict auth mode
(spec jd.md §9). `send()` returns the raw `requests` response, so the envelope is read by hand."""

import base64
import json
import re
import struct
import zlib

import pytest
from jdcloud_apim_sdk.core.config import Config
from jdcloud_apim_sdk.core.const import SCHEME_HTTP
from jdcloud_apim_sdk.core.credential import Credential
from jdcloud_apim_sdk.core.logger import ERROR, Logger
from jdcloud_apim_sdk.simpleclient import SimpleClient
from jdcloud_apim_sdk.simplerequest import SimpleRequest

DEV_AK, DEV_SK = "imgemu-dev-ak", "imgemu-dev-sk"
UID = "11219894642824"  # spec jd.md §2.7 for imgemu-dev-ak
MILK_INFO = '{"Ingredients":"wheat flour, milkfat, edible salt", "price":"12.0"}'
ENVELOPE = {"code": "10000", "charge": False, "remainSeconds": -1, "msg": "查询成功"}
SIGN_INVALID = "请求签名sign无效，请检查签名信息"

pytestmark = pytest.mark.imgemu_args("--auth", "strict")


# ------------------------------------------------------------------ helpers


def png(width, height, gray):
    """An 8-bit RGB PNG (filter None on every row) whose pixel (x, y) is gray(x, y) on all channels."""

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = bytearray()
    for y in range(height):
        raw.append(0)
        for x in range(width):
            v = gray(x, y) & 0xFF
            raw += bytes((v, v, v))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(bytes(raw), 9)) + chunk(b"IEND", b"")


def b64(data):
    return base64.b64encode(data).decode("ascii")


# A pattern none of the fixtures use: concentric rings 24 px wide, centred.
RINGS = b64(png(256, 256, lambda x, y: 255 if int(((x - 128) ** 2 + (y - 128) ** 2) ** 0.5) // 24 % 2 else 0))
TINY = b64(png(100, 100, lambda x, y: x * 255 // 99))


def client(emulator, access_key=DEV_AK, secret_key=DEV_SK):
    """The official client pointed at the emulator: endpoint is host:port without a scheme."""
    endpoint = emulator.url.removeprefix("http://")
    return SimpleClient(Config(endpoint, scheme=SCHEME_HTTP), Credential(access_key, secret_key), logger=Logger(ERROR))


def post(cli, operation, body):
    return cli.send(SimpleRequest(f"/jdai/{operation}", "POST", None, body, {}))


def get(cli, operation, params=None):
    return cli.send(SimpleRequest(f"/jdai/{operation}", "GET", params, None, {}))


def result(resp):
    """The business result of a 10000 envelope (HTTP 200)."""
    assert resp.status_code == 200, resp.text
    payload = resp.json()
    assert payload["code"] == "10000", payload
    return payload["result"]


def state_jd(emulator):
    return emulator.control("GET", "/state").json()["jd"]["tenants"][DEV_AK]


# ------------------------------------------------------------------ tests


def test_image_update_seed_example_then_fetch(emulator):
    cli = client(emulator)
    resp = post(
        cli,
        "image_update",
        {"collection_name": "food", "docs": [{"image_name": "Milk_salt_soda_v1", "info": MILK_INFO}, {"image_name": "Egg", "info": '{"price":"2.0"}'}]},
    )
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "application/json;charset=UTF-8"
    assert resp.json() == {
        **ENVELOPE,
        "remainTimes": 4999,
        "result": {
            "status_code": 0,
            "message": "SUCCESS",
            "succeeded_list": [{"image_name": "Milk_salt_soda_v1", "info": MILK_INFO}],
            "failed_list": [{"image_name": "Egg", "message": "NO_RELATIVE_IMAGE"}],
        },
    }
    fetched = post(cli, "image_fetch", {"collection_name": "food", "image_names": ["Milk_salt_soda_v1", "Rice_cracker_v1", "Egg"]})
    assert fetched.json()["remainTimes"] == 4998
    assert result(fetched) == {
        "status_code": 0,
        "message": "SUCCESS",
        "succeeded_list": [{"image_name": "Milk_salt_soda_v1", "info": MILK_INFO}, {"image_name": "Rice_cracker_v1", "info": ""}],
        "failed_list": [{"image_name": "Egg", "message": "NO_RELATIVE_IMAGE"}],
    }
    # A different info really replaces the stored one.
    changed = result(post(cli, "image_update", {"collection_name": "food", "docs": [{"image_name": "Milk_salt_soda_v1", "info": '{"price":"13.5"}'}]}))
    assert changed["succeeded_list"] == [{"image_name": "Milk_salt_soda_v1", "info": '{"price":"13.5"}'}]
    again = result(post(cli, "image_fetch", {"collection_name": "food", "image_names": ["Milk_salt_soda_v1"]}))
    assert again["succeeded_list"] == [{"image_name": "Milk_salt_soda_v1", "info": '{"price":"13.5"}'}]


def test_index_then_task_processing_then_finished(emulator):
    cli = client(emulator)
    indexed = result(
        post(
            cli,
            "index",
            {
                "collection_name": "food",
                "docs": [
                    {"image_name": "Rings_v1", "image_content": RINGS, "info": '{"price":"3.0"}'},
                    {"image_name": "Tiny_v1", "image_content": TINY},
                ],
            },
        )
    )
    assert (indexed["status_code"], indexed["message"], indexed["failed_list"]) == (0, "SUCCESS", [])
    task_id = indexed["task_id"]
    assert re.fullmatch(UID + r"/food/[0-9]+\.[0-9]{6}", task_id), task_id

    # The SDK puts the id into the query with its '/' raw and signs the query exactly as sent.
    first_resp = get(cli, "task", {"task_id": task_id})
    assert f"?task_id={task_id}" in first_resp.request.url
    first = result(first_resp)
    assert first == {
        "status_code": 0,
        "message": "SUCCESS",
        "task_status": "PROCESSING",
        "succeeded_list": [],
        "failed_list": [],
        "pending_list": ["Rings_v1", "Tiny_v1"],
    }
    # Pending images are invisible.
    pending = result(post(cli, "image_fetch", {"collection_name": "food", "image_names": ["Rings_v1"]}))
    assert pending["failed_list"] == [{"image_name": "Rings_v1", "message": "NO_RELATIVE_IMAGE"}]

    second = result(get(cli, "task", {"task_id": task_id}))
    assert second == {
        "status_code": 0,
        "message": "SUCCESS",
        "task_status": "FINISHED",
        "succeeded_list": ["Rings_v1"],
        "failed_list": [{"image_name": "Tiny_v1", "message": "IMAGE_TOO_SMALL"}],
        "pending_list": [],
    }
    assert result(get(cli, "task", {"task_id": task_id})) == second, "results are fixed at finish"
    visible = result(post(cli, "image_fetch", {"collection_name": "food", "image_names": ["Rings_v1", "Tiny_v1"]}))
    assert visible["succeeded_list"] == [{"image_name": "Rings_v1", "info": '{"price":"3.0"}'}]
    assert visible["failed_list"] == [{"image_name": "Tiny_v1", "message": "NO_RELATIVE_IMAGE"}]
    # An unknown task id (also with '/') is TASK_NOT_EXIST.
    assert result(get(cli, "task", {"task_id": f"{UID}/food/1.000000"})) == {"status_code": 1004, "message": "TASK_NOT_EXIST"}


def test_product_add_then_status_in_both_list_forms(emulator):
    cli = client(emulator)
    added = result(
        post(
            cli,
            "product_image_add",
            {"collection_name": "shop", "image_list": [{"product_id": "65337027695", "image_id": "rings.jpg", "image_content": RINGS, "image_info": "rings"}]},
        )
    )
    assert (added["code"], added["message"], added["failed_list"]) == (0, "SUCCESS", [])
    task_id = added["task_id"]
    assert re.fullmatch(UID + r"/shop/[0-9]+\.[0-9]{6}", task_id), task_id
    item = f"{UID}/shop|65337027695|rings.jpg"

    first = result(post(cli, "product_image_status", {"task_id": task_id}))
    assert first == {"code": 0, "message": "SUCCESS", "task_status": "PROCESSING", "succeeded_list": [], "failed_list": [], "pending_list": [item]}
    second_resp = post(cli, "product_image_status", {"task_id": task_id})
    second = result(second_resp)
    assert second == {"code": 0, "message": "SUCCESS", "task_status": "FINISHED", "succeeded_list": [item], "failed_list": [], "pending_list": []}
    # Product results are printed with sorted keys, as in the docs' examples.
    assert list(second_resp.json()["result"]) == sorted(second)

    switched = emulator.control("PUT", "/settings", json={"jd": {"product_status_items": "objects"}})
    assert switched.status_code == 200, switched.text
    objects = result(post(cli, "product_image_status", {"task_id": task_id}))
    assert objects["task_status"] == "FINISHED"
    assert objects["succeeded_list"] == [{"image_id": "rings.jpg", "product_id": "65337027695"}]
    assert (objects["failed_list"], objects["pending_list"]) == ([], [])

    info = result(post(cli, "product_image_info", {"collection_name": "shop", "product_id": "65337027695"}))
    assert [i["image_id"] for i in info["image_list"]] == ["1002039492343.jpg", "1002039492344.jpg", "rings.jpg"]


def test_index_search_orders_by_similarity(emulator):
    cli = client(emulator)
    milk = state_jd(emulator)["collections"][0]["images"][0]
    assert milk["image_name"] == "Milk_salt_soda_v1"
    found = result(post(cli, "index_search", {"collection_name": "food", "query_content": milk["content"]}))
    hits = found["search_result"]
    assert (found["status_code"], found["message"]) == (0, "SUCCESS")
    assert [h["image_name"] for h in hits][0] == "Milk_salt_soda_v1"
    assert sorted(h["image_name"] for h in hits) == ["Green_tea_v2", "Milk_salt_soda_v1", "Rice_cracker_v1"]
    assert hits[0] == {"image_name": "Milk_salt_soda_v1", "similarity": 1.0, "info": MILK_INFO}
    scores = [h["similarity"] for h in hits]
    assert scores == sorted(scores, reverse=True), scores
    assert all(s < 1.0 for s in scores[1:])
    rice = next(h for h in hits if h["image_name"] == "Rice_cracker_v1")
    assert "info" not in rice

    top = result(post(cli, "index_search", {"collection_name": "food", "query_content": milk["content"], "top_k": 2}))
    assert top["search_result"] == hits[:2]
    bad = result(post(cli, "index_search", {"collection_name": "food", "query_content": milk["content"], "top_k": 0}))
    assert bad == {"status_code": 2001, "message": "INVALID_PARAM_TOP_K"}


def test_product_image_search_orders_by_similarity(emulator):
    cli = client(emulator)
    shoe = state_jd(emulator)["product_collection"]["products"][1]
    assert (shoe["product_id"], shoe["images"][0]["image_id"]) == ("65337027696", "1002039492345.jpg")
    found = result(post(cli, "product_image_search", {"collection_name": "shop", "image_content": shoe["images"][0]["content"]}))
    assert (found["code"], found["message"]) == (0, "SUCCESS")
    images = found["images"]
    assert images[0] == {
        "image_id": "1002039492345.jpg",
        "image_info": "canvas shoe",
        "info": "canvas shoe",
        "product_id": "65337027696",
        "product_name": "帆布鞋",
        "similarity": 1.0,
    }
    assert sorted(i["image_id"] for i in images) == ["1002039492343.jpg", "1002039492344.jpg", "1002039492345.jpg"]
    scores = [i["similarity"] for i in images]
    assert scores == sorted(scores, reverse=True), scores
    assert found["rectangle"] == [{"bottom": 256.0, "left": 0.0, "right": 256.0, "top": 0.0}]

    top = result(post(cli, "product_image_search", {"collection_name": "shop", "image_content": shoe["images"][0]["content"], "topk": 1}))
    assert top["images"] == images[:1]
    other = result(post(cli, "product_image_search", {"collection_name": "shop", "image_content": shoe["images"][0]["content"], "category": "其他"}))
    assert {i["product_id"] for i in other["images"]} == {"65337027695"}


@pytest.mark.parametrize(
    "access_key,secret_key",
    [(DEV_AK, "wrong-secret"), ("unregistered-ak", DEV_SK)],
    ids=["wrong-secret", "unregistered-access-key"],
)
def test_bad_credentials_are_rejected_with_10047(emulator, access_key, secret_key):
    bad = client(emulator, access_key, secret_key)
    for resp in (
        get(bad, "collection_list"),
        post(bad, "image_update", {"collection_name": "food", "docs": [{"image_name": "Milk_salt_soda_v1", "info": "hacked"}]}),
    ):
        assert resp.status_code == 200
        payload = resp.json()
        assert payload["code"] == "10047"
        assert payload["msg"] == SIGN_INVALID
        assert "result" not in payload
        assert (payload["charge"], payload["remainSeconds"]) == (False, -1)
    # Nothing changed, nothing counted against the dev tenant.
    good = client(emulator)
    fetched = post(good, "image_fetch", {"collection_name": "food", "image_names": ["Milk_salt_soda_v1"]})
    assert fetched.json()["remainTimes"] == 4999
    assert result(fetched)["succeeded_list"] == [{"image_name": "Milk_salt_soda_v1", "info": MILK_INFO}]


def test_request_id_header(emulator):
    cli = client(emulator)
    first = get(cli, "collection_list")
    second = post(cli, "image_fetch", {"collection_name": "nothing", "image_names": ["x"]})
    rejected = get(client(emulator, DEV_AK, "wrong-secret"), "collection_list")
    ids = [r.headers["x-jdcloud-request-id"] for r in (first, second, rejected)]
    for rid in ids:
        assert re.fullmatch(r"[0-9a-z]{32}", rid), rid
    assert len(set(ids)) == 3, "fresh per response"
    journal = emulator.control("GET", "/journal", params={"vendor": "jd"}).json()
    assert [e["request_id"] for e in journal["entries"]] == ids


def test_cjk_info_round_trips(emulator):
    cli = client(emulator)
    info = '{"品名":"苏打饼干","口味":"咸味","价格":"¥12.0","备注":"含麸质 😀"}'
    body = {"collection_name": "food", "docs": [{"image_name": "Green_tea_v2", "info": info}]}
    # The SDK sends json.dumps output: non-ASCII as \\uXXXX escapes (and a surrogate pair for the emoji).
    assert "\\u82cf" in json.dumps(body) and "\\ud83d\\ude00" in json.dumps(body)
    updated = post(cli, "image_update", body)
    assert result(updated)["succeeded_list"] == [{"image_name": "Green_tea_v2", "info": info}]
    # The response carries the characters unescaped.
    assert "苏打饼干" in updated.content.decode("utf-8")
    fetched = result(post(cli, "image_fetch", {"collection_name": "food", "image_names": ["Green_tea_v2"]}))
    assert fetched["succeeded_list"] == [{"image_name": "Green_tea_v2", "info": info}]
    stored = next(i for i in state_jd(emulator)["collections"][0]["images"] if i["image_name"] == "Green_tea_v2")
    assert stored["info"] == info


def test_collection_list(emulator):
    cli = client(emulator)
    resp = get(cli, "collection_list")
    assert resp.json() == {
        **ENVELOPE,
        "remainTimes": 4999,
        "result": {"status_code": 0, "message": "SUCCESS", "collection_list": [{"collection_name": "food", "indexed_image_count": 3}]},
    }
    # A new collection appears after the fixture one once its image becomes visible.
    task_id = result(post(cli, "index", {"collection_name": "drinks", "docs": [{"image_name": "Rings_v1", "image_content": RINGS}]}))["task_id"]
    listed = result(get(cli, "collection_list"))["collection_list"]
    assert listed == [{"collection_name": "food", "indexed_image_count": 3}, {"collection_name": "drinks", "indexed_image_count": 0}]
    for _ in range(2):
        result(get(cli, "task", {"task_id": task_id}))
    listed = result(get(cli, "collection_list"))["collection_list"]
    assert listed == [{"collection_name": "food", "indexed_image_count": 3}, {"collection_name": "drinks", "indexed_image_count": 1}]
