"""Sanitiser bypasses found in review: string URLs in CSS and crafted asset paths."""

from __future__ import annotations

import re

from mailatlas_clean import parse_bytes


def _html_message(html: str) -> bytes:
    return (
        "From: a@example.test\r\nSubject: styled\r\nMessage-ID: <css@example.test>\r\n"
        "MIME-Version: 1.0\r\nContent-Type: multipart/related; boundary=B\r\n\r\n"
        "--B\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
        f"{html}\r\n"
        "--B\r\nContent-Type: image/png\r\nContent-ID: <logo@x>\r\n"
        'Content-Disposition: inline; filename="logo.png"\r\n'
        "Content-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n--B--\r\n"
    ).encode()


def test_image_set_and_image_functions_cannot_load_remote_images() -> None:
    doc = parse_bytes(
        _html_message(
            "<div style=\"background-image:image-set('https://evil.test/a.png' 1x)\">a</div>"
            '<div style="background:-webkit-image-set(&quot;https://evil.test/b.png&quot; 1x)">'
            "b</div>"
            '<div style="background-image:image(&quot;https://evil.test/c.png&quot;)">c</div>'
        )
    )
    assert doc.body_html is not None
    html = doc.body_html.lower()
    assert "image-set(" not in html and "image(" not in html
    for style in re.findall(r'style="([^"]*)"', html):
        if "evil.test" in style:  # the text may stay, but only inside an inert blocked()
            assert "blocked(" in style and "url(" not in style, style


def test_asset_paths_must_be_this_messages_own_assets() -> None:
    doc = parse_bytes(
        _html_message(
            '<img src="cid:logo@x">'
            '<img src="../assets/x/../../../../../etc/passwd">'
            '<p style="background:url(../assets/../../etc/hostname)">p</p>'
        )
    )
    assert doc.body_html is not None
    own = f"../assets/{doc.id}/logo.png"
    assert f'src="{own}"' in doc.body_html  # the real inline image still shows
    assert not re.search(r'(?<!data-blocked-)src="\.\./assets/x/', doc.body_html)
    assert "etc/hostname" not in doc.body_html
    assert doc.body_html.count("<img") == 2
