"""Aries v1 image API from Python's `requests`, the way Aries clients talk to it (Aries ships no
SDK): plain JSON over HTTP with a Bearer token or HTTP Basic credentials, against the binary."""

import re

import pytest
import requests

TOKEN = {"Authorization": "Bearer imgemu-dev-token"}
SEED_REQUEST = {
    "id": 1,
    "name": "CentOS-7.9-x64-updated",
    "os_type": "linux",
    "os_name": "CentOS",
    "description": "CentOS 7.9 64位基础镜像 - 更新版",
}


def test_seed_update_example(emulator):
    emulator.control("POST", "/clock", json={"freeze": True, "set": "2024-03-20T11:30:00Z"})
    r = requests.put(f"{emulator.url}/aries/api/v1/image", json=SEED_REQUEST, headers=TOKEN, timeout=10)
    assert r.status_code == 200
    assert r.json() == {
        "id": 1,
        "name": "CentOS-7.9-x64-updated",
        "os_type": "linux",
        "os_name": "CentOS",
        "description": "CentOS 7.9 64位基础镜像 - 更新版",
        "source_path": "/path/to/image/file.iso",
        "created_at": "2024-03-20T10:30:00Z",
        "updated_at": "2024-03-20T11:30:00Z",
    }
    assert list(r.json()) == ["id", "name", "os_type", "os_name", "description", "source_path", "created_at", "updated_at"]
    assert r.headers["X-Imgemu-Image-Ref"] == "img-2ze4hxw8hdik"
    assert r.headers["Content-Type"] == "application/json; charset=utf-8"


def test_create_list_describe_delete_with_basic_auth(emulator):
    auth = ("admin", "password")
    base = f"{emulator.url}/aries/api/v1/image"
    created = requests.post(
        f"{base}/create",
        json={"name": "win2022", "os_type": "windows", "os_name": "Windows Server", "source_path": "D:\\Images\\w.vhdx"},
        auth=auth,
        timeout=10,
    )
    assert created.status_code == 200
    image = created.json()["image"]
    assert image["id"] == 4 and "updated_at" not in image
    image_ref = created.headers["X-Imgemu-Image-Ref"]
    assert re.fullmatch(r"img-[0-9a-z]{12}", image_ref)

    listed = requests.get(base + "/list", params={"os_type": "windows", "os_name": "server"}, auth=auth, timeout=10)
    assert [i["id"] for i in listed.json()] == [4, 3]

    described = requests.get(f"{base}/4", auth=auth, timeout=10).json()
    assert described["created_at"] == described["updated_at"]

    deleted = requests.delete(f"{base}/delete", params={"image_ref": image_ref}, auth=auth, timeout=10)
    assert (deleted.status_code, deleted.json()) == (200, {"result": True})
    gone = requests.get(f"{base}/4", auth=auth, timeout=10)
    assert gone.status_code == 404 and gone.json()["code"] == "ImageNotFound"


@pytest.mark.parametrize(
    "method,path,body,status,code",
    [
        ("PUT", "/aries/api/v1/image", {"id": "1"}, 400, "InvalidParameter"),
        ("PUT", "/aries/api/v1/image", {"id": 1, "name": "Ubuntu-22.04-x64"}, 400, "ImageNameExists"),
        ("PUT", "/aries/api/v1/image", {"id": 404}, 404, "ImageNotFound"),
        ("POST", "/aries/api/v1/image/create", {"name": "n", "os_type": "linux", "os_name": "x", "source_path": "x.iso"}, 400, "InvalidSourcePath"),
        ("POST", "/aries/api/v1/image/create", {"name": "CentOS-7.9-x64", "os_type": "linux", "os_name": "x", "source_path": "/x.iso"}, 400, "ImageExists"),
        ("DELETE", "/aries/api/v1/image/delete?image_ref=3", None, 400, "ImageInUse"),
        ("GET", "/aries/api/v1/image/abc", None, 400, "InvalidParameter"),
    ],
)
def test_error_shapes(emulator, method, path, body, status, code):
    r = requests.request(method, emulator.url + path, json=body, headers=TOKEN, timeout=10)
    assert r.status_code == status
    payload = r.json()
    assert set(payload) == {"code", "message", "request_id"}
    assert payload["code"] == code
    assert payload["request_id"] == r.headers["X-Request-Id"]


@pytest.mark.imgemu_args("--auth", "strict")
def test_strict_mode_and_registered_credentials(emulator):
    url = f"{emulator.url}/aries/api/v1/image/list"
    r = requests.get(url, headers={"Authorization": "Bearer py-token"}, timeout=10)
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"] == 'Bearer realm="aries"'
    assert r.json()["message"] == "未认证"
    reg = emulator.control("POST", "/credentials", json={"vendor": "aries", "token": "py-token", "user": "py"})
    assert reg.status_code == 201
    r = requests.get(url, headers={"Authorization": "Bearer py-token"}, timeout=10)
    assert (r.status_code, r.json()) == (200, [])


def test_journal_sees_what_the_client_sent(emulator):
    requests.get(f"{emulator.url}/aries/api/v1/image/2", headers={**TOKEN, "X-Request-Id": "py-trace-7"}, timeout=10)
    journal = emulator.control("GET", "/journal", params={"vendor": "aries"}).json()
    assert journal["count"] == 1
    entry = journal["entries"][0]
    assert (entry["request_id"], entry["operation"], entry["status"], entry["tenant"]) == ("py-trace-7", "DescribeImage", 200, "admin")
