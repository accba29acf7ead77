"""The web app's static answers: gzip when asked, 304 on a current ETag, strict headers."""

from __future__ import annotations

import gzip

from chalicelib.domain.web_assets import (
    answer,
    content_security_policy,
    make_asset,
    origin_of,
)

CSP = content_security_policy(["http://127.0.0.1:9000"])
BIG = b"console.log('leadpipe');\n" * 40


def test_a_script_is_gzipped_when_the_browser_accepts_it_and_plain_otherwise():
    asset = make_asset("js/main.js", BIG)
    zipped = answer(asset, {"accept-encoding": "gzip, deflate, br"}, CSP)
    assert zipped.status == 200 and zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.body) == BIG
    assert zipped.headers["Content-Type"] == "text/javascript; charset=utf-8"
    plain = answer(asset, {}, CSP)
    assert plain.body == BIG and "Content-Encoding" not in plain.headers
    refused = answer(asset, {"accept-encoding": "gzip;q=0"}, CSP)
    assert "Content-Encoding" not in refused.headers


def test_a_tiny_file_is_not_gzipped():
    assert "Content-Encoding" not in answer(make_asset("a.css", b"a{}"),
                                            {"accept-encoding": "gzip"}, CSP).headers


def test_the_same_bytes_give_the_same_etag_and_gzip_on_every_instance():
    first, second = make_asset("app.css", BIG), make_asset("app.css", BIG)
    assert first.etag == second.etag and first.gzipped == second.gzipped
    assert make_asset("app.css", BIG + b" ").etag != first.etag


def test_a_current_etag_gets_304_without_a_body_and_a_stale_one_the_file():
    asset = make_asset("index.html", BIG)
    assert answer(asset, {"if-none-match": asset.etag}, CSP).status == 304
    assert answer(asset, {"if-none-match": f'W/{asset.etag}, "x"'}, CSP).body == b""
    stale = answer(asset, {"if-none-match": '"0000"'}, CSP)
    assert stale.status == 200 and stale.body == BIG


def test_every_answer_carries_the_policy_and_is_revalidated():
    headers = answer(make_asset("index.html", BIG), {}, CSP).headers
    assert headers["Content-Security-Policy"] == CSP
    assert headers["X-Frame-Options"] == "DENY" and headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Cache-Control"] == "no-cache" and headers["ETag"].startswith('"')


def test_the_policy_allows_no_inline_script_no_eval_and_only_the_file_store():
    assert "'unsafe-inline'" not in CSP and "'unsafe-eval'" not in CSP
    assert "connect-src 'self' http://127.0.0.1:9000" in CSP
    assert "default-src 'none'" in CSP and "frame-ancestors 'none'" in CSP


def test_origin_of_a_presigned_url():
    assert origin_of("https://b.s3.amazonaws.com/k?X-Amz=1") == "https://b.s3.amazonaws.com"
    assert origin_of("javascript:alert(1)") is None and origin_of("/relative") is None
