"""Huawei Cloud IMS through the unmodified official Python SDK (PyPI `huaweicloudsdkims` on
`huaweicloudsdkcore`): every request is built and signed with SDK-HMAC-SHA256 by the SDK itself, against
the binary in strict auth mode (spec huawei.md §9). The client always gets the project id and explicit
endpoints (`with_endpoints`, never `with_region`), so no IAM call happens. Errors arrive as the core's
ClientRequestException with `status_code`, `error_code`, `error_msg` and `request_id` (read from the
X-Request-Id header). The SDK has no token credentials, so token auth is driven with `requests`.

Strict mode checks X-Sdk-Date (the machine's clock) against the emulator clock (±15 min, §5.3), so the
tests that need exact timestamps freeze the emulator clock at the machine's current second."""

import re
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import requests
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkcore.http.http_handler import HttpHandler
from huaweicloudsdkims.v2 import (
    CreateImageRequest,
    CreateImageRequestBody,
    GlanceDeleteImageRequest,
    GlanceDeleteImageRequestBody,
    GlanceShowImageRequest,
    ImsClient,
    ListImagesRequest,
    ShowJobProgressRequest,
    ShowJobRequest,
    UpdateImageRequest,
    UpdateImageRequestBody,
)

DEV_AK, DEV_SK = "imgemu-dev-ak", "imgemu-dev-sk"
DEV_PROJECT = "0b1e494e2660441a957313163095fe5c"
DEV_TOKEN = "imgemu-dev-token"
SEED = "33ad552d-1149-471c-8190-ff6776174a00"  # spec §2.3: "ims_test", active, private
SEED_UPDATED_AT = "2015-12-08T02:30:49Z"
GOLD = {
    "5e5f2d1a-2f0c-4c52-9a7e-0c1b9d1e6a01": "Ubuntu 22.04 server 64bit",
    "8c3f1a7e-6b2d-4e9f-8a51-3d7e2c9b0f02": "CentOS 7.9 64bit",
    "a1d4e6f8-3c5b-4a7d-9e2f-6b8c0d1e2f03": "Windows Server 2019 Datacenter 64bit English",
    "f0e1d2c3-b4a5-4968-8776-5a4b3c2d1e04": "Huawei Cloud EulerOS 2.0 Standard 64 bit (ARM)",
}
REQUEST_ID = r"[0-9a-f]{32}"  # spec §2
JOB_ID = r"[0-9a-f]{32}"
IMAGE_ID = r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
IMS_PATH = re.compile(r"/v2/cloudimages(/action|/[0-9a-fA-F-]+)?|/v2/images/[^/?]+|/v1/[^/]+/jobs/[0-9a-f]+|/v1/cloudimages/job/[0-9a-f]+")

pytestmark = [
    pytest.mark.imgemu_args("--auth", "strict"),
    # ShowJob and the Glance operations are deprecated in the SDK (ShowJob by Huawei, spec §1), still served.
    pytest.mark.filterwarnings("ignore:Method '.*' of ImsClient is deprecated:DeprecationWarning"),
]


# ------------------------------------------------------------------ helpers


class Recorder:
    """Keeps every `requests.Response` the SDK receives, through the SDK's own HttpHandler hook, to read
    what went on the wire (signed headers, query) and what came back (X-Request-Id, Content-Type)."""

    def __init__(self):
        self.responses = []

    def __call__(self, **kwargs):
        self.responses.append(kwargs["response"])

    @property
    def last(self):
        return self.responses[-1]


def client(emulator, secret_key=DEV_SK, access_key=DEV_AK, recorder=None):
    """The official client pointed at the emulator (spec §9): project id given, explicit endpoint."""
    builder = (
        ImsClient.new_builder()
        .with_credentials(BasicCredentials(access_key, secret_key, DEV_PROJECT))
        .with_endpoints([emulator.url])
    )
    if recorder is not None:
        builder = builder.with_http_handler(HttpHandler().add_response_handler(recorder))
    return builder.build()


def freeze(emulator, offset=timedelta(0)):
    """Freezes the emulator clock at the machine's current whole second (plus `offset`), which keeps
    strict-mode signatures valid, and returns that instant as an image timestamp."""
    at = datetime.now(timezone.utc).replace(microsecond=0) + offset
    stamp = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    got = emulator.control("POST", "/clock", json={"freeze": True, "set": stamp})
    assert got.status_code == 200, got.text
    return stamp


def advance(emulator, duration):
    got = emulator.control("POST", "/clock", json={"advance": duration})
    assert got.status_code == 200, got.text
    return got.json()["now"]


def job_time(stamp):
    """An image timestamp (whole seconds) as a job timestamp (milliseconds, spec §2)."""
    return stamp[:-1] + ".000Z"


def journal(emulator, **params):
    got = emulator.control("GET", "/journal", params={"vendor": "huawei", **params})
    assert got.status_code == 200, got.text
    return got.json()["entries"]


def raises(status, code, message, call, *args, **kwargs):
    """Runs an SDK call that must fail with ClientRequestException `status`/`code`/`message`."""
    with pytest.raises(ClientRequestException) as info:
        call(*args, **kwargs)
    err = info.value
    assert (err.status_code, err.error_code, err.error_msg) == (status, code, message), str(err)
    assert re.fullmatch(REQUEST_ID, err.request_id or ""), err.request_id
    return err


def show(ims, image_id):
    return ims.glance_show_image(GlanceShowImageRequest(image_id=image_id))


def update(ims, image_id, *ops):
    """UpdateImage with (op, path[, value]) tuples; `remove` goes without a value, as the SDK sends it."""
    body = [UpdateImageRequestBody(op=op[0], path=op[1], value=op[2] if len(op) > 2 else None) for op in ops]
    return ims.update_image(UpdateImageRequest(image_id=image_id, body=body))


def create(ims, name="web-base", **fields):
    body = {"image_url": "my-bucket:images/web.qcow2", "min_disk": 40, "os_version": "CentOS 7.9 64bit", **fields}
    resp = ims.create_image(CreateImageRequest(body=CreateImageRequestBody(name=name, **body)))
    assert resp.status_code == 200
    assert re.fullmatch(JOB_ID, resp.job_id), resp.job_id
    return resp.job_id


def job(ims, job_id):
    resp = ims.show_job(ShowJobRequest(job_id=job_id))
    assert resp.status_code == 200
    return resp


def listed(ims, **query):
    """ListImages' raw JSON: the SDK's ImageInfo model drops `__` attributes it does not know."""
    resp = ims.list_images(ListImagesRequest(**query))
    assert resp.status_code == 200
    return resp.to_json_object()


def new_active_image(ims, name="web-base"):
    """CreateImage, then the two ShowJob reads of the default `polls:1` policy: the image's id, active."""
    job_id = create(ims, name)
    assert job(ims, job_id).status == "RUNNING"
    done = job(ims, job_id)
    assert done.status == "SUCCESS"
    return job_id, done.entities.image_id


# ------------------------------------------------------------------ UpdateImage


def test_update_image_renames_the_seed_image(emulator):
    recorder = Recorder()
    ims = client(emulator, recorder=recorder)
    before = show(ims, SEED)
    assert (before.name, before.updated_at, before.status) == ("ims_test", SEED_UPDATED_AT, "active")
    now = freeze(emulator)
    assert now != SEED_UPDATED_AT

    resp = update(ims, SEED, ("replace", "/name", "ubuntu-base"), ("add", "/max_ram", "4096"))
    assert resp.status_code == 200
    assert (resp.id, resp.name, resp.status) == (SEED, "ubuntu-base", "active")
    assert resp.updated_at == now, "updated_at moves to the emulator's now"
    assert resp.created_at == "2015-12-04T09:45:33Z"
    assert (resp.min_ram, resp.max_ram) == (0, "4096")
    assert resp.description == "ims test", "description <- __description"
    assert (resp.os_version, resp.imagetype, resp.visibility, resp.owner) == ("Ubuntu 14.04 server 64bit", "private", "private", DEV_PROJECT)
    raw = resp.to_json_object()
    assert (raw["max_ram"], raw["min_ram"]) == ("4096", 0), "max_ram a digit string, min_ram a number (§2.2)"

    # What the SDK sent and got back (spec §2, §9).
    wire = recorder.last
    assert wire.request.method == "PATCH"
    assert wire.request.path_url == f"/v2/cloudimages/{SEED}"
    assert wire.request.headers["Authorization"].startswith(f"SDK-HMAC-SHA256 Access={DEV_AK}, SignedHeaders=")
    assert wire.request.headers["X-Project-Id"] == DEV_PROJECT
    assert re.fullmatch(r"\d{8}T\d{6}Z", wire.request.headers["X-Sdk-Date"])
    assert wire.headers["Content-Type"] == "application/json;charset=UTF-8"
    assert re.fullmatch(REQUEST_ID, wire.headers["X-Request-Id"])

    # Read back, by id and by the new name.
    again = show(ims, SEED)
    assert (again.name, again.updated_at, again.max_ram) == ("ubuntu-base", now, "4096")
    assert [i["id"] for i in listed(ims, name="ubuntu-base")["images"]] == [SEED]
    assert listed(ims, name="ims_test")["images"] == []
    # Every request went to the IMS endpoint: no IAM call.
    assert all(IMS_PATH.fullmatch(r.request.path_url.split("?")[0]) for r in recorder.responses), [r.request.url for r in recorder.responses]


def test_a_patch_with_one_invalid_operation_changes_nothing(emulator):
    ims = client(emulator)
    freeze(emulator)
    before = show(ims, SEED).to_json_object()
    advance(emulator, "60s")  # an update, even a partial one, would move updated_at

    raises(
        400,
        "IMG.0141",
        "The value of hw_firmware_type is not uefi or bios.",
        update,
        ims,
        SEED,
        ("replace", "/name", "changed"),
        ("add", "/__description", "changed too"),
        ("add", "/hw_firmware_type", "efi"),
    )
    assert show(ims, SEED).to_json_object() == before
    assert listed(ims, name="changed")["images"] == []

    # The same for a failure in the last step (a `remove` goes without a value) and a read-only attribute.
    raises(403, "IMG.0161", "You do not have permission.", update, ims, SEED, ("replace", "/name", "changed"), ("remove", "/name"))
    raises(400, "IMG.0035", "An attribute conflict occurred during the modification.", update, ims, SEED, ("replace", "/name", "changed"), ("replace", "/max_ram", "1"))
    raises(403, "IMG.0161", "You do not have permission.", update, ims, SEED, ("replace", "/name", "changed"), ("replace", "/min_disk", "80"))
    after = show(ims, SEED)
    assert after.to_json_object() == before
    assert (after.name, after.updated_at, after.hw_firmware_type) == ("ims_test", SEED_UPDATED_AT, "bios")

    # The valid part alone goes through (a JSON number as value works too, §9).
    ok = update(ims, SEED, ("replace", "/name", "changed"), ("remove", "/__description"), ("add", "/max_ram", 8192))
    assert (ok.name, ok.description, ok.max_ram) == ("changed", None, "8192")
    assert "__description" not in ok.to_json_object()


# ------------------------------------------------------------------ CreateImage jobs


def test_create_image_job_and_the_active_only_rule(emulator):
    ims = client(emulator)
    now = freeze(emulator)
    job_id = create(ims, "web-base", description="built by the SDK")

    # The image exists at once, queued; ListImages is not a status read (§6).
    images = listed(ims, name="web-base")["images"]
    assert len(images) == 1
    image_id = images[0]["id"]
    assert re.fullmatch(IMAGE_ID, image_id), image_id
    assert (images[0]["status"], images[0]["__platform"], images[0]["__os_version"]) == ("queued", "CentOS", "CentOS 7.9 64bit")
    assert (images[0]["__data_origin"], images[0]["__description"], images[0]["owner"]) == ("file,my-bucket:images/web.qcow2", "built by the SDK", DEV_PROJECT)

    # First read: RUNNING at 0.5, no image_id yet (§10.11); the image is saving and cannot be updated.
    first = job(ims, job_id)
    assert (first.job_id, first.job_type, first.status) == (job_id, "imsImportImageJob", "RUNNING")
    assert (first.begin_time, first.end_time, first.error_code, first.fail_reason) == (job_time(now), "", None, None)
    assert (first.entities.image_name, first.entities.process_percent, first.entities.image_id) == ("web-base", 0.5, None)
    assert first.to_json_object()["entities"] == {"image_name": "web-base", "process_percent": 0.5}
    assert listed(ims, id=image_id)["images"][0]["status"] == "saving"
    raises(400, "IMG.0046", "The image is unavailable.", update, ims, image_id, ("add", "/__description", "x"))
    raises(400, "IMG.0090", "The image being created cannot be deleted.", ims.glance_delete_image, GlanceDeleteImageRequest(image_id=image_id))

    # Second read: SUCCESS with entities.image_id; the image is active and the update works.
    second = job(ims, job_id)
    assert (second.status, second.begin_time, second.end_time) == ("SUCCESS", job_time(now), job_time(now))
    assert (second.entities.image_id, second.entities.image_name, second.entities.process_percent) == (image_id, "web-base", 1.0)
    image = show(ims, image_id)
    assert (image.status, image.active_at, image.updated_at, image.created_at) == ("active", now, now, now)
    assert (image.image_size, image.min_disk, image.disk_format, image.imagetype) == ("2147483648", 40, "zvhd2", "private")
    advance(emulator, "30s")
    renamed = update(ims, image_id, ("replace", "/name", "web-base-v2"), ("add", "/__description", "x"))
    assert (renamed.name, renamed.description, renamed.status) == ("web-base-v2", "x", "active")
    assert renamed.updated_at != now

    # Terminal states are final; ShowJobProgress reads the same job.
    assert job(ims, job_id).to_json_object() == second.to_json_object()
    progress = ims.show_job_progress(ShowJobProgressRequest(job_id=job_id))
    assert (progress.status, progress.job_id) == ("SUCCESS", job_id)
    assert progress.to_json_object()["entities"] == {"image_name": "web-base", "image_id": image_id, "process_percent": 1.0}


@pytest.mark.imgemu_args("--auth", "strict", "--transition", "time:10m")
def test_create_image_job_init_running_success_on_the_clock(emulator):
    ims = client(emulator)
    # Start 5 min behind the machine's clock: the 10 min of the job stay inside strict mode's ±15 min.
    start = freeze(emulator, offset=timedelta(minutes=-5))
    job_id = create(ims, "timed", os_version="Ubuntu 22.04 server 64bit")

    init = job(ims, job_id)
    assert (init.status, init.end_time, init.entities.process_percent, init.entities.image_id) == ("INIT", "", 0.0, None)
    image_id = listed(ims, name="timed")["images"][0]["id"]
    assert show(ims, image_id).status == "queued"

    advance(emulator, "4m")
    running = job(ims, job_id)
    assert (running.status, running.entities.process_percent) == ("RUNNING", 0.4)
    assert show(ims, image_id).status == "saving"
    raises(400, "IMG.0046", "The image is unavailable.", update, ims, image_id, ("replace", "/name", "early"))

    advance(emulator, "6m")
    done = job(ims, job_id)
    end = datetime.strptime(start, "%Y-%m-%dT%H:%M:%SZ") + timedelta(minutes=10)
    assert (done.status, done.end_time, done.entities.image_id) == ("SUCCESS", end.strftime("%Y-%m-%dT%H:%M:%S.000Z"), image_id)
    assert show(ims, image_id).status == "active"
    assert update(ims, image_id, ("replace", "/name", "on-time")).name == "on-time"


def test_glance_delete_image_of_a_finished_image(emulator):
    ims = client(emulator)
    job_id, image_id = new_active_image(ims)
    gone = ims.glance_delete_image(GlanceDeleteImageRequest(image_id=image_id, body=GlanceDeleteImageRequestBody(delete_backup=True)))
    assert gone.status_code == 204
    raises(404, "IMG.0144", "The image does not exist.", show, ims, image_id)
    raises(404, "IMG.0144", "The image does not exist.", ims.glance_delete_image, GlanceDeleteImageRequest(image_id=image_id))
    assert listed(ims, id=image_id) == {"images": []}, "an unknown id lists as exactly this (§3.2)"
    # The job record stays.
    assert (job(ims, job_id).status, job(ims, job_id).entities.image_id) == ("SUCCESS", image_id)

    # A bodiless DELETE (Content-Length: 0) of the seed image; gold images are refused.
    assert ims.glance_delete_image(GlanceDeleteImageRequest(image_id=SEED)).status_code == 204
    raises(404, "IMG.0144", "The image does not exist.", show, ims, SEED)
    gold = next(iter(GOLD))
    raises(403, "IMG.0094", "The public image cannot be deleted.", ims.glance_delete_image, GlanceDeleteImageRequest(image_id=gold))
    assert sorted(i["id"] for i in listed(ims)["images"]) == sorted(GOLD)


# ------------------------------------------------------------------ reads and errors


def test_unknown_image_is_404_img_0144(emulator):
    ims = client(emulator)
    unknown = str(uuid.uuid4())
    raises(404, "IMG.0144", "The image does not exist.", show, ims, unknown)
    raises(404, "IMG.0144", "The image does not exist.", update, ims, unknown, ("replace", "/name", "x"))
    raises(404, "IMG.0144", "The image does not exist.", ims.glance_delete_image, GlanceDeleteImageRequest(image_id=unknown))
    # A malformed id is 400 IMG.0066; an unknown job 404 IMG.0121; gold images are read-only.
    raises(400, "IMG.0066", "The image ID is incorrect.", show, ims, "not-an-image")
    raises(404, "IMG.0121", "The object cannot be found.", ims.show_job, ShowJobRequest(job_id="f" * 32))
    raises(403, "IMG.0083", "The image is a public image.", update, ims, next(iter(GOLD)), ("replace", "/name", "x"))


def test_list_images_pages_with_next_marker(emulator):
    recorder = Recorder()
    ims = client(emulator, recorder=recorder)
    everything = ims.list_images(ListImagesRequest())
    assert everything.page_info.next_marker is None
    assert everything.to_json_object()["page_info"] == {}
    # Newest first: the four gold images (2023, ties by id descending), then the seed image (2015).
    expected = sorted(GOLD, reverse=True) + [SEED]
    assert [i.id for i in everything.images] == expected
    assert {i.id: i.name for i in everything.images} == {**GOLD, SEED: "ims_test"}

    for order in ({}, {"sort_key": "name", "sort_dir": "asc"}):
        pages, marker = [], None
        while True:
            page = ims.list_images(ListImagesRequest(limit=2, marker=marker, **order))
            pages.append([i.id for i in page.images])
            assert "limit=2" in recorder.last.request.url
            if marker is not None:
                assert f"marker={marker}" in recorder.last.request.url
            marker = page.page_info.next_marker
            if marker is None:
                assert "next" not in page.to_json_object()
                break
            assert marker == pages[-1][-1], "next_marker is the page's last id"
            assert page.to_json_object()["next"].endswith(f"marker={marker}")
            assert len(pages) < 10, pages
        seen = [i for p in pages for i in p]
        assert [len(p) for p in pages] == [2, 2, 1], pages
        assert sorted(seen) == sorted(expected), "every image exactly once"
        if order:
            names = {**GOLD, SEED: "ims_test"}
            assert [names[i] for i in seen] == sorted(names.values())
        else:
            assert seen == expected

    # Filters the SDK sends as query parameters.
    assert [i["id"] for i in listed(ims, imagetype="private")["images"]] == [SEED]
    assert [i["id"] for i in listed(ims, imagetype="gold", architecture="arm")["images"]] == ["f0e1d2c3-b4a5-4968-8776-5a4b3c2d1e04"]
    assert [i["id"] for i in listed(ims, created_at="lt:2020-01-01T00:00:00Z")["images"]] == [SEED]
    assert "created_at=lt%3A2020-01-01T00%3A00%3A00Z" in recorder.last.request.url
    raises(400, "IMG.0027", "The image ID in the request does not exist.", ims.list_images, ListImagesRequest(marker=str(uuid.uuid4())))


def test_wrong_secret_is_401_apigw_0301(emulator):
    recorder = Recorder()
    bad = client(emulator, secret_key="wrong-secret", recorder=recorder)
    err = raises(
        401,
        "APIGW.0301",
        "Incorrect IAM authentication information: verify aksk signature fail",
        update,
        bad,
        SEED,
        ("replace", "/name", "hacked"),
    )
    assert err.request_id == recorder.last.headers["X-Request-Id"]
    assert recorder.last.json() == {"error_msg": err.error_msg, "error_code": "APIGW.0301", "request_id": err.request_id}
    raises(401, "APIGW.0301", "Incorrect IAM authentication information: verify aksk signature fail", bad.list_images, ListImagesRequest())
    stranger = client(emulator, access_key="stranger-ak", secret_key="x")
    raises(401, "APIGW.0301", "Incorrect IAM authentication information: Get secretKey failed,ak:stranger-ak,err:ak not exist", show, stranger, SEED)
    # Nothing changed.
    image = show(client(emulator), SEED)
    assert (image.name, image.updated_at) == ("ims_test", SEED_UPDATED_AT)
    assert [e["status"] for e in journal(emulator)] == [401, 401, 401, 200]


def test_request_id_is_exposed_by_the_sdk(emulator):
    recorder = Recorder()
    ims = client(emulator, recorder=recorder)
    ok = show(ims, SEED)
    assert ok.status_code == 200
    ok_id = recorder.last.headers["X-Request-Id"]
    missing = raises(404, "IMG.0144", "The image does not exist.", show, ims, str(uuid.uuid4()))
    invalid = raises(400, "IMG.0141", "The value of hw_firmware_type is not uefi or bios.", update, ims, SEED, ("add", "/hw_firmware_type", "efi"))
    denied = raises(401, "APIGW.0301", "Incorrect IAM authentication information: verify aksk signature fail", show, client(emulator, "wrong"), SEED)
    ids = [ok_id, missing.request_id, invalid.request_id, denied.request_id]
    assert all(re.fullmatch(REQUEST_ID, i) for i in ids), ids
    assert len(set(ids)) == 4, "fresh per response"
    # The journal records the same ids, and the error's cause.
    entries = journal(emulator)
    assert [e["request_id"] for e in entries] == ids
    assert [(e["operation"], e["status"]) for e in entries] == [("GlanceShowImage", 200), ("GlanceShowImage", 404), ("UpdateImage", 400), ("GlanceShowImage", 401)]
    assert [e["tenant"] for e in entries] == [DEV_PROJECT, DEV_PROJECT, DEV_PROJECT, None]


def test_token_auth_with_requests(emulator):
    """The SDK signs with AK/SK only (no token credentials), so X-Auth-Token goes through `requests`."""
    now = freeze(emulator)
    base = emulator.url
    token = {"X-Auth-Token": DEV_TOKEN}
    got = requests.get(f"{base}/v2/images/{SEED}", headers=token, timeout=10)
    assert got.status_code == 200, got.text
    assert got.headers["Content-Type"] == "application/json;charset=UTF-8"
    assert re.fullmatch(REQUEST_ID, got.headers["X-Request-Id"])
    assert (got.json()["name"], got.json()["owner"]) == ("ims_test", DEV_PROJECT)

    patched = requests.patch(
        f"{base}/v2/cloudimages/{SEED}",
        json=[{"op": "replace", "path": "/name", "value": "by-token"}],
        headers={**token, "Content-Type": "application/openstack-images-v2.1-json-patch"},
        timeout=10,
    )
    assert patched.status_code == 200, patched.text
    assert (patched.json()["name"], patched.json()["updated_at"]) == ("by-token", now)
    # The SDK sees the token's change.
    assert show(client(emulator), SEED).name == "by-token"

    bad = requests.get(f"{base}/v2/images/{SEED}", headers={"X-Auth-Token": "not-a-token"}, timeout=10)
    assert bad.status_code == 401
    assert bad.json() == {
        "error_msg": "Incorrect IAM authentication information: decrypt token fail",
        "error_code": "APIGW.0301",
        "request_id": bad.headers["X-Request-Id"],
    }
    none = requests.get(f"{base}/v2/images/{SEED}", timeout=10)
    assert (none.status_code, none.json()["error_code"]) == (401, "APIGW.0301")
    assert none.json()["error_msg"].endswith("x-auth-token not found")
