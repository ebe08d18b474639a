"""Alibaba Cloud Image Search 2020-12-14 through the unmodified official Python SDK (PyPI
`alibabacloud-imagesearch20201214`, on tea-openapi/darabonba): every request is built and signed by
the SDK itself, ACS3-HMAC-SHA256 by default and RPC V2 (HMAC-SHA1) with `signature_algorithm='v2'`,
against the binary in strict auth mode (spec aliyun.md §9). One test also drives the legacy
`aliyun-python-sdk-core` CommonRequest. Errors arrive as the SDK's exceptions: tea-openapi raises
ClientException (a TeaException) for 4xx with `code`, `status_code`, `message`, `request_id`, `data`."""

import base64
import json
import re
import struct
import zlib

import pytest
from alibabacloud_imagesearch20201214 import models as m
from alibabacloud_imagesearch20201214.client import Client
from alibabacloud_tea_openapi.exceptions import ClientException, ThrottlingException
from alibabacloud_tea_openapi.models import Config
from aliyunsdkcore.acs_exception.exceptions import ServerException as LegacyServerException
from aliyunsdkcore.client import AcsClient
from aliyunsdkcore.request import CommonRequest
from Tea.exceptions import TeaException

DEV_AK, DEV_SK = "imgemu-dev-ak", "imgemu-dev-sk"
INSTANCE = "demoinstance1"
REQUEST_ID = r"[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}"
# spec aliyun.md §2.6, in id order.
CATEGORIES = [
    (0, "Tops"),
    (1, "Dress"),
    (2, "Bottoms"),
    (3, "Bag"),
    (4, "Shoes"),
    (5, "Accessories"),
    (6, "Snack"),
    (7, "Makeup"),
    (8, "Bottle"),
    (9, "Furniture"),
    (20, "Toy"),
    (21, "Underwear"),
    (22, "Digital"),
    (88888888, "Other"),
]
# CheckImageExists of the fixture image 2092061_1/namexxx.jpg (spec aliyun.md §8.2).
NAMEXXX = {
    "ProductId": "2092061_1",
    "PicName": "namexxx.jpg",
    "CategoryId": 88888888,
    "CustomContent": "zidingyi",
    "IntAttr": 2,
    "IntAttr2": 20,
    "IntAttr3": 33,
    "IntAttr4": 33,
    "StrAttr": "ss",
    "StrAttr2": "test",
    "StrAttr3": "ss",
    "StrAttr4": "ss",
}

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


# A pattern none of the fixtures use (they are ramps and checkerboards): concentric rings 24 px wide.
RINGS = base64.b64encode(png(256, 256, lambda x, y: 255 if int(((x - 128) ** 2 + (y - 128) ** 2) ** 0.5) // 24 % 2 else 0)).decode("ascii")


def client(emulator, access_key=DEV_AK, secret_key=DEV_SK, **config):
    """The official client pointed at the emulator: endpoint is host:port without a scheme."""
    endpoint = emulator.url.removeprefix("http://")
    return Client(Config(access_key_id=access_key, access_key_secret=secret_key, endpoint=endpoint, protocol="http", **config))


def check(cli, product_id, pic_name):
    return cli.check_image_exists(m.CheckImageExistsRequest(instance_name=INSTANCE, product_id=product_id, pic_name=pic_name))


def update(cli, product_id="2092061_1", pic_name="namexxx.jpg", **attrs):
    return cli.update_image(m.UpdateImageRequest(instance_name=INSTANCE, product_id=product_id, pic_name=pic_name, **attrs))


def raises(code, status, call, *args, **kwargs):
    """Runs an SDK call that must fail with the tea-openapi ClientException `code` and HTTP `status`."""
    with pytest.raises(ClientException) as info:
        call(*args, **kwargs)
    err = info.value
    assert isinstance(err, TeaException)
    assert not isinstance(err, ThrottlingException), "no x-acs-retry-after header is sent"
    assert (err.code, err.status_code) == (code, status), (err.code, err.status_code, err.message)
    # The error body (§2.3) is kept by the SDK as `data`, with the status added.
    assert err.data["Code"] == code
    assert err.data["RequestId"] == err.request_id
    assert err.message == f"code: {status}, {err.data['Message']} request id: {err.request_id}"
    assert err.data["Recommend"] == f"https://api.aliyun.com/troubleshoot?q={code}&product=ImageSearch&requestId={err.request_id}"
    return err


def assert_message_success(resp):
    """A "Message" family success (§2.3): HTTP 200, Code 0, RequestId = the x-acs-request-id header."""
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "application/json;charset=utf-8"
    body = resp.body
    assert (body.code, body.message, body.success) == (0, "success", True)
    assert body.request_id == resp.headers["x-acs-request-id"]
    assert re.fullmatch(REQUEST_ID, body.request_id), body.request_id


# ------------------------------------------------------------------ tests


def test_update_image_then_check_image_exists(emulator):
    cli = client(emulator)
    # IntAttr3 travels in the query, StrAttr in the form body (the SDK's own split, spec §2.1).
    resp = update(cli, str_attr="red", int_attr_3=7)
    assert_message_success(resp)
    assert set(resp.body.to_map()) == {"Code", "Message", "RequestId", "Success"}
    entry = emulator.control("GET", "/journal", params={"vendor": "aliyun"}).json()["entries"][-1]
    assert (entry["operation"], entry["path"], entry["status"], entry["request_id"]) == ("UpdateImage", "/?IntAttr3=7", 200, resp.body.request_id)

    got = check(cli, "2092061_1", "namexxx.jpg")
    assert got.status_code == 200
    assert got.body.request_id == got.headers["x-acs-request-id"] != resp.body.request_id
    assert (got.body.code, got.body.msg, got.body.success, got.body.exists) == (0, "success", True, True)
    assert got.body.auctions.to_map() == {**NAMEXXX, "StrAttr": "red", "IntAttr3": 7}
    assert (got.body.auctions.str_attr, got.body.auctions.int_attr_3) == ("red", 7)

    # Only what is sent changes; an empty string clears, ints take the value given.
    assert_message_success(update(cli, custom_content="", int_attr=-5, str_attr_4=""))
    assert check(cli, "2092061_1", "namexxx.jpg").body.auctions.to_map() == {
        **NAMEXXX,
        "StrAttr": "red",
        "IntAttr3": 7,
        "CustomContent": "",
        "IntAttr": -5,
        "StrAttr4": "",
    }
    # The other image of the product is untouched.
    assert check(cli, "2092061_1", "namexxx_2.jpg").body.auctions.str_attr == "ss"


def test_str_attr2_over_128_characters_is_a_client_exception(emulator):
    cli = client(emulator)
    assert_message_success(update(cli, str_attr_2="b" * 128))
    err = raises("InvalidStrAttr2", 400, update, cli, str_attr_2="a" * 129)
    assert err.data["Message"] == "The specified parameter StrAttr2 is not valid."
    assert err.data["HostId"] == emulator.url.removeprefix("http://")
    assert err.data["statusCode"] == 400
    # Characters, not bytes: 128 CJK characters (384 UTF-8 bytes) are fine.
    assert_message_success(update(cli, str_attr_2="图" * 128))
    assert check(cli, "2092061_1", "namexxx.jpg").body.auctions.str_attr_2 == "图" * 128
    # Each field has its own code, StrAttr3/4 arriving in the query, and a failed call changes nothing.
    raises("InvalidStrAttr", 400, update, cli, str_attr="x" * 129, str_attr_2="ok")
    raises("InvalidStrAttr4", 400, update, cli, str_attr_4="x" * 129, str_attr_2="ok")
    assert check(cli, "2092061_1", "namexxx.jpg").body.auctions.str_attr_2 == "图" * 128


def test_unknown_picture_and_unknown_instance(emulator):
    cli = client(emulator)
    raises("PicNotExist", 400, update, cli, pic_name="nothing.jpg", str_attr="x")
    raises("PicNotExist", 400, update, cli, product_id="nobody", str_attr="x")
    raises(
        "PicNotExist",
        400,
        cli.search_image_by_name,
        m.SearchImageByNameRequest(instance_name=INSTANCE, product_id="2092061_1", pic_name="nothing.jpg"),
    )
    missing = check(cli, "2092061_1", "nothing.jpg")
    assert (missing.body.code, missing.body.success, missing.body.exists, missing.body.auctions) == (0, True, False, None)
    assert "Auctions" not in missing.body.to_map()

    err = raises("InvalidInstance", 400, cli.update_image, m.UpdateImageRequest(instance_name="otherinstance", product_id="2092061_1", pic_name="namexxx.jpg", str_attr="x"))
    assert err.data["Message"] == "The specified instance name is invalid."
    raises("InvalidInstance", 400, cli.check_image_exists, m.CheckImageExistsRequest(instance_name="otherinstance", product_id="2092061_1", pic_name="namexxx.jpg"))
    raises("InvalidInstance", 400, cli.detail, m.DetailRequest(instance_name="otherinstance"))
    raises("InvalidInstance", 400, cli.update_image, m.UpdateImageRequest(instance_name="x" * 21, product_id="2092061_1", pic_name="namexxx.jpg"))
    raises("MissingInstanceName", 400, cli.update_image, m.UpdateImageRequest(product_id="2092061_1", pic_name="namexxx.jpg"))
    # Nothing changed.
    assert check(cli, "2092061_1", "namexxx.jpg").body.auctions.to_map() == NAMEXXX


def test_add_image_then_search_by_name_ranks_it_first(emulator):
    cli = client(emulator)
    added = cli.add_image(
        m.AddImageRequest(
            instance_name=INSTANCE,
            product_id="rings_1",
            pic_name="rings.png",
            pic_content=RINGS,
            category_id=3,
            crop=True,
            region="10,500,20,200",
            custom_content="concentric rings",
            int_attr=42,
            str_attr_3="round",
        )
    )
    assert_message_success(added)
    info = added.body.pic_info
    assert (info.category_id, info.region) == (3, "10,255,20,200"), "Region clamped to W-1"
    assert [r.region for r in info.multi_region] == ["10,255,20,200"]
    assert [(c.id, c.name) for c in info.all_categories] == CATEGORIES

    stored = check(cli, "rings_1", "rings.png").body
    assert stored.exists is True
    assert stored.auctions.to_map() == {
        "ProductId": "rings_1",
        "PicName": "rings.png",
        "CategoryId": 3,
        "CustomContent": "concentric rings",
        "IntAttr": 42,
        "IntAttr2": 0,
        "IntAttr3": 0,
        "IntAttr4": 0,
        "StrAttr": "",
        "StrAttr2": "",
        "StrAttr3": "round",
        "StrAttr4": "",
    }

    found = cli.search_image_by_name(m.SearchImageByNameRequest(instance_name=INSTANCE, product_id="rings_1", pic_name="rings.png"))
    body = found.body
    assert (found.status_code, body.code, body.msg, body.success) == (200, 0, "success", True)
    assert body.request_id == found.headers["x-acs-request-id"]
    auctions = body.auctions
    assert len(auctions) == 6, "the 5 fixture images and the new one"
    first = auctions[0].to_map()
    assert first == {**stored.auctions.to_map(), "Score": 1.0, "SortExprValues": "1.0;0"}
    scores = [a.score for a in auctions]
    assert scores == sorted(scores, reverse=True), scores
    assert all(0.0 <= s < 1.0 for s in scores[1:]), scores
    assert sorted((a.product_id, a.pic_name) for a in auctions[1:]) == [
        ("2092061_1", "namexxx.jpg"),
        ("2092061_1", "namexxx_2.jpg"),
        ("2092061_2", "red_shirt.jpg"),
        ("2092061_3", "blue_shoe.png"),
        ("2092061_4", "snack.png"),
    ]
    for a in auctions:
        assert set(a.to_map()) == set(NAMEXXX) | {"Score", "SortExprValues"}
    assert (body.head.docs_found, body.head.docs_return) == (6, 6)
    assert isinstance(body.head.search_time, int) and body.head.search_time >= 0
    pic = body.pic_info
    assert (pic.category_id, pic.region) == (3, "10,255,20,200"), "the image's category and region"
    assert [r.region for r in pic.multi_region] == ["10,255,20,200"]
    assert [(c.id, c.name) for c in pic.all_categories] == CATEGORIES

    # Paging, a score threshold (sent in the query) and a filter, all through the SDK's fields.
    page = cli.search_image_by_name(m.SearchImageByNameRequest(instance_name=INSTANCE, product_id="rings_1", pic_name="rings.png", start=1, num=2)).body
    assert [a.to_map() for a in page.auctions] == [a.to_map() for a in auctions[1:3]]
    assert (page.head.docs_found, page.head.docs_return) == (2, 6)
    top = cli.search_image_by_name(m.SearchImageByNameRequest(instance_name=INSTANCE, product_id="rings_1", pic_name="rings.png", score_threshold="1.00")).body
    assert [(a.pic_name, a.score) for a in top.auctions] == [("rings.png", 1.0)]
    filtered = cli.search_image_by_name(
        m.SearchImageByNameRequest(instance_name=INSTANCE, product_id="rings_1", pic_name="rings.png", filter='int_attr2 >= 20 AND str_attr = "ss"')
    ).body
    assert sorted(a.pic_name for a in filtered.auctions) == ["namexxx.jpg", "snack.png"]

    # The same bytes as a query picture rank the stored one first too; CategoryId 3 keeps only bags.
    by_pic = cli.search_image_by_pic(m.SearchImageByPicRequest(instance_name=INSTANCE, pic_content=RINGS, category_id=3)).body
    assert [(a.product_id, a.pic_name, a.score) for a in by_pic.auctions] == [("rings_1", "rings.png", 1.0)]
    assert (by_pic.pic_info.category_id, by_pic.pic_info.region) == (3, "0,255,0,255")


def test_update_image_burst_over_20_per_second_is_denied(emulator):
    # The window slides on the emulator clock (spec §7): stop it so all 21 calls fall in one second.
    # A freeze at "now" keeps the SDK's real-time x-acs-date within strict mode's 900 s.
    frozen = emulator.control("POST", "/clock", json={"freeze": True})
    assert frozen.status_code == 200, frozen.text
    cli = client(emulator)
    for i in range(20):
        assert_message_success(update(cli, int_attr=i))
    err = raises("DeniedRequest", 403, update, cli, int_attr=99)
    assert err.data["Message"] == "Your request was denied due to instance flow control."
    # Other actions have their own windows.
    assert check(cli, "2092061_1", "namexxx.jpg").body.auctions.int_attr == 19, "the denied call changed nothing"
    raises("DeniedRequest", 403, update, cli, int_attr=100)
    # 999 ms later the window is still full; one more millisecond and it has slid.
    assert emulator.control("POST", "/clock", json={"advance": "999ms"}).status_code == 200
    raises("DeniedRequest", 403, update, cli, int_attr=101)
    assert emulator.control("POST", "/clock", json={"advance": "1ms"}).status_code == 200
    assert_message_success(update(cli, int_attr=7))
    assert check(cli, "2092061_1", "namexxx.jpg").body.auctions.int_attr == 7


@pytest.mark.parametrize(
    "access_key,secret_key,code,status,message",
    [
        (DEV_AK, "wrong-secret", "SignatureDoesNotMatch", 400, "Specified signature does not match our calculation."),
        ("unregistered-ak", DEV_SK, "InvalidAccessKeyId.NotFound", 404, "Specified access key is not found."),
    ],
    ids=["wrong-secret", "unregistered-access-key"],
)
def test_bad_credentials_are_rejected(emulator, access_key, secret_key, code, status, message):
    bad = client(emulator, access_key, secret_key)
    err = raises(code, status, update, bad, str_attr="hacked")
    assert err.data["Message"] == message
    raises(code, status, bad.detail, m.DetailRequest(instance_name=INSTANCE))
    raises(code, status, check, bad, "2092061_1", "namexxx.jpg")
    # Nothing changed, and no flow-control window was used up: Detail (1 per second) still answers.
    good = client(emulator)
    assert check(good, "2092061_1", "namexxx.jpg").body.auctions.to_map() == NAMEXXX
    assert good.detail(m.DetailRequest(instance_name=INSTANCE)).body.instance.name == INSTANCE


def test_rpc_v2_signature(emulator):
    v2 = client(emulator, signature_algorithm="v2")
    resp = update(v2, str_attr="v2 value", int_attr_3=8, str_attr_4="q*~")
    assert_message_success(resp)
    got = check(v2, "2092061_1", "namexxx.jpg")
    assert got.body.request_id == got.headers["x-acs-request-id"]
    assert got.body.auctions.to_map() == {**NAMEXXX, "StrAttr": "v2 value", "IntAttr3": 8, "StrAttr4": "q*~"}
    # The V3 client sees the same state.
    assert check(client(emulator), "2092061_1", "namexxx.jpg").body.auctions.str_attr == "v2 value"

    bad = client(emulator, DEV_AK, "wrong-secret", signature_algorithm="v2")
    err = raises("SignatureDoesNotMatch", 400, update, bad, str_attr="hacked")
    text = err.data["Message"]
    prefix = "Specified signature is not matched with our calculation. server string to sign is:"
    assert text.startswith(prefix + "POST&%2F&"), text
    string_to_sign = text[len(prefix) :]
    # tea V2 signs Format=json and the body's parameters along with the query's.
    for part in ("Action%3DUpdateImage", "Format%3Djson", "StrAttr%3Dhacked", "SignatureMethod%3DHMAC-SHA1", "Version%3D2020-12-14"):
        assert part in string_to_sign, string_to_sign
    raises("InvalidAccessKeyId.NotFound", 404, update, client(emulator, "unregistered-ak", DEV_SK, signature_algorithm="v2"), str_attr="x")
    assert check(v2, "2092061_1", "namexxx.jpg").body.auctions.str_attr == "v2 value"


def test_detail(emulator):
    # Detail admits 1 per second (spec §7): a frozen clock makes the second call's denial certain.
    assert emulator.control("POST", "/clock", json={"freeze": True}).status_code == 200
    resp = client(emulator).detail(m.DetailRequest(instance_name=INSTANCE))
    assert resp.status_code == 200
    body = resp.body
    assert (body.success, body.request_id) == (True, resp.headers["x-acs-request-id"])
    assert body.to_map()["Instance"] == {
        "Name": INSTANCE,
        "Region": "ap-southeast-1",
        "ServiceType": 0,
        "Capacity": 10,
        "Qps": 10,
        "TotalCount": 5,
        "UtcCreate": "1767225600000",
        "UtcExpireTime": "1798761600000",
    }
    assert isinstance(body.instance.utc_create, str) and isinstance(body.instance.utc_expire_time, str)
    assert set(body.to_map()) == {"RequestId", "Success", "Instance"}, "no Code on Detail"
    raises("DeniedRequest", 403, client(emulator).detail, m.DetailRequest(instance_name=INSTANCE))


def test_search_image_by_filter(emulator):
    # 9 SearchImageByFilter calls: within the instance's Qps of 10 (spec §7) even in one second.
    cli = client(emulator)

    def search(expr, **kw):
        resp = cli.search_image_by_filter(m.SearchImageByFilterRequest(instance_name=INSTANCE, filter=expr, **kw))
        assert (resp.body.code, resp.body.msg, resp.body.success) == (0, "success", True)
        assert resp.body.request_id == resp.headers["x-acs-request-id"]
        return resp.body

    body = search('int_attr2 >= 20 AND str_attr IN ("ss", "blue")')
    assert [(a.product_id, a.pic_name) for a in body.auctions] == [
        ("2092061_1", "namexxx.jpg"),
        ("2092061_3", "blue_shoe.png"),
        ("2092061_4", "snack.png"),
    ]
    assert body.auctions[0].to_map() == NAMEXXX, "Auction objects without Score"
    assert "Head" not in body.to_map()
    assert [a.pic_name for a in search('(intAttr = 5 OR int_attr = -1) and STR_ATTR2 != "shirt"').auctions] == ["snack.png"]
    assert [a.pic_name for a in search("int_attr3 NOT IN (0, 1)").auctions] == ["namexxx.jpg", "snack.png"]
    assert [a.pic_name for a in search("int_attr2 >= 10", start=1, num=2).auctions] == ["namexxx_2.jpg", "red_shirt.jpg"]
    assert search('str_attr = "nothing"').auctions == []
    # Attributes changed through the SDK are seen by the filter at once.
    assert_message_success(update(cli, "2092061_2", "red_shirt.jpg", str_attr_3="sale", int_attr_4=-7))
    assert [a.pic_name for a in search('str_attr3 = "sale" AND int_attr4 < 0').auctions] == ["red_shirt.jpg"]
    raises("InvalidFilterClause", 400, cli.search_image_by_filter, m.SearchImageByFilterRequest(instance_name=INSTANCE, filter="str_attr > 1"))
    raises("InvalidFilterClause", 400, cli.search_image_by_filter, m.SearchImageByFilterRequest(instance_name=INSTANCE))


def test_delete_image_by_product_and_by_filter(emulator):
    cli = client(emulator)
    resp = cli.delete_image(m.DeleteImageRequest(instance_name=INSTANCE, product_id="2092061_1"))
    assert_message_success(resp)
    assert resp.body.data.pic_names == ["namexxx.jpg", "namexxx_2.jpg"]
    assert check(cli, "2092061_1", "namexxx.jpg").body.exists is False
    assert check(cli, "2092061_1", "namexxx_2.jpg").body.exists is False
    assert check(cli, "2092061_2", "red_shirt.jpg").body.exists is True
    # Deleting nothing succeeds.
    again = cli.delete_image(m.DeleteImageRequest(instance_name=INSTANCE, product_id="2092061_1"))
    assert again.body.data.pic_names == []
    # By filter (the SDK sends the boolean as "True"); ProductId is then ignored.
    by_filter = cli.delete_image(m.DeleteImageRequest(instance_name=INSTANCE, is_delete_by_filter=True, filter='str_attr2 = "shoe" OR int_attr < 0', product_id="2092061_2"))
    assert_message_success(by_filter)
    assert by_filter.body.data.pic_names == ["blue_shoe.png", "snack.png"]
    # One picture of a product.
    one = cli.delete_image(m.DeleteImageRequest(instance_name=INSTANCE, product_id="2092061_2", pic_name="other.jpg"))
    assert one.body.data.pic_names == []
    raises("InvalidFilterClause", 400, cli.delete_image, m.DeleteImageRequest(instance_name=INSTANCE, is_delete_by_filter=True))
    raises("NoSpecifiedProductId", 400, cli.delete_image, m.DeleteImageRequest(instance_name=INSTANCE, is_delete_by_filter=False))
    assert cli.detail(m.DetailRequest(instance_name=INSTANCE)).body.instance.total_count == 1
    left = cli.search_image_by_filter(m.SearchImageByFilterRequest(instance_name=INSTANCE, filter="int_attr >= -100")).body.auctions
    assert [(a.product_id, a.pic_name) for a in left] == [("2092061_2", "red_shirt.jpg")]


SPECIAL = {
    # StrAttr and StrAttr2 travel in the form body, StrAttr3 and StrAttr4 in the query (V3) — the SDK's split.
    "str_attr": "a b  c ",
    "str_attr_2": "*~+&=%20?#/'\"",
    "str_attr_3": "星期 é ü 😀 x*y~z",
    "str_attr_4": "100% a+b & c=d ~ *",
    "custom_content": '{"名称": "衬衫", "price": "¥ 12.0"}\nline two\ttab',
}


@pytest.mark.parametrize("algorithm", [None, "v2"], ids=["v3", "rpc-v2"])
def test_special_characters_round_trip(emulator, algorithm):
    cli = client(emulator, signature_algorithm=algorithm) if algorithm else client(emulator)
    assert_message_success(update(cli, "2092061_3", "blue_shoe.png", **SPECIAL))
    got = check(cli, "2092061_3", "blue_shoe.png").body.auctions
    assert (got.str_attr, got.str_attr_2, got.str_attr_3, got.str_attr_4, got.custom_content) == tuple(SPECIAL.values())
    # Stored verbatim: a filter on the exact value finds it (the literal goes in the body).
    found = cli.search_image_by_filter(m.SearchImageByFilterRequest(instance_name=INSTANCE, filter='str_attr3 = "星期 é ü 😀 x*y~z"')).body
    assert [a.pic_name for a in found.auctions] == ["blue_shoe.png"]
    state = emulator.control("GET", "/state").json()["aliyun"]["tenants"][DEV_AK]["instances"][0]["Images"]
    stored = next(i for i in state if i["PicName"] == "blue_shoe.png")
    assert (stored["StrAttr"], stored["StrAttr2"], stored["StrAttr3"], stored["StrAttr4"], stored["CustomContent"]) == tuple(SPECIAL.values())


def test_legacy_common_request(emulator):
    """The legacy `aliyun-python-sdk-core` CommonRequest: RPC V2 with Format=JSON, RegionId and an empty
    SignatureType, parameters in the query (spec §9)."""
    endpoint = emulator.url.removeprefix("http://")

    def detail(secret_key):
        req = CommonRequest(domain=endpoint, version="2020-12-14", action_name="Detail")
        req.set_protocol_type("http")
        req.set_method("POST")
        req.add_query_param("InstanceName", INSTANCE)
        return req, AcsClient(DEV_AK, secret_key, "cn-shanghai")

    req, acs = detail(DEV_SK)
    body = json.loads(acs.do_action_with_exception(req))
    assert body["Success"] is True
    assert body["Instance"]["Name"] == INSTANCE and body["Instance"]["UtcCreate"] == "1767225600000"

    req, acs = detail("wrong-secret")
    with pytest.raises(LegacyServerException) as info:
        acs.do_action_with_exception(req)
    err = info.value
    assert (err.get_http_status(), err.get_error_code()) == (400, "SignatureDoesNotMatch")
    # The SDK splits the message on ':' (spec §5): the server's StringToSign is exactly the one the SDK
    # signed (CommonRequest keeps it on its inner RpcRequest, so the SDK itself never swaps the code for
    # InvalidAccessKeySecret here).
    message = err.get_error_msg()
    assert message.split(":")[1] == req.request.string_to_sign
    assert req.request.string_to_sign.startswith("POST&%2F&AccessKeyId%3Dimgemu-dev-ak%26Action%3DDetail%26Format%3DJSON")
    assert "RegionId%3Dcn-shanghai" in message and "SignatureType%3D%26" in message

    # A body parameter (add_body_params) works too: UpdateImage by POST form.
    upd = CommonRequest(domain=endpoint, version="2020-12-14", action_name="UpdateImage")
    upd.set_protocol_type("http")
    upd.set_method("POST")
    for k, v in (("InstanceName", INSTANCE), ("ProductId", "2092061_1"), ("PicName", "namexxx.jpg")):
        upd.add_query_param(k, v)
    upd.add_body_params("StrAttr", "legacy value ~*")
    upd.add_query_param("IntAttr2", "-3")
    result = json.loads(AcsClient(DEV_AK, DEV_SK, "cn-shanghai").do_action_with_exception(upd))
    assert (result["Code"], result["Message"], result["Success"]) == (0, "success", True)
    assert check(client(emulator), "2092061_1", "namexxx.jpg").body.auctions.to_map() == {**NAMEXXX, "StrAttr": "legacy value ~*", "IntAttr2": -3}
