"""My page in Chromium: an API key shown once (copied with the button), password and e-mail
changes, downloading my data, deleting my account after a confirmation naming what goes."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import pytest
from playwright.async_api import Browser, Route, expect

from browser.conftest import PASSWORD, log_in, new_tab, new_username, screenshot_path, sign_up
from e2e.server import Server

pytestmark = pytest.mark.e2e


async def test_api_key_is_shown_once_and_the_password_changes(
    browser: Browser, offline_server: Server, tmp_path: Path
) -> None:
    tab = await new_tab(browser, offline_server)
    await tab.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=offline_server.url)
    page = tab.page
    name = new_username("keys")
    await sign_up(tab, name)
    await page.locator("#nav-me").click()
    await expect(page.locator("h1")).to_have_text("My page")
    await expect(page.locator("#profile-username")).to_have_text(name)
    await expect(page.locator("#my-quota")).to_contain_text("5/5 left")
    await expect(page.locator("#linked-accounts")).to_have_text("No linked accounts.")

    # A key: shown once, copied by the button, listed without its secret.
    await page.locator("#key-form input[name=name]").fill("my laptop")
    await page.locator("#key-form input[name=password]").fill(PASSWORD)
    await page.locator("#key-form button[type=submit]").click()
    secret = await page.locator("#new-key-secret").inner_text()
    assert secret.startswith("cc_") or len(secret) > 20, secret
    await expect(page.locator("#copy-key")).to_be_focused()
    await page.locator("#copy-key").click()
    await expect(page.locator("#copy-key")).to_have_text("Copied")
    assert await page.evaluate("navigator.clipboard.readText()") == secret
    models = await tab.context.request.get(
        f"{offline_server.url}/v1/models", headers={"Authorization": f"Bearer {secret}"}
    )
    assert models.status == 200
    await page.screenshot(path=screenshot_path("my-page.png", tmp_path), full_page=True)
    await page.reload()
    await expect(page.locator("[data-key-id]")).to_have_count(1)
    await expect(page.locator("[data-key-id] td").first).to_have_text("my laptop")
    assert secret not in await page.content()
    await expect(page.locator("#new-key")).to_be_hidden()

    # Deleting the key, after a confirmation.
    await page.locator("[data-key-id] button").click()
    await page.locator("#dialog-ok").click()
    await expect(page.locator("[data-key-id]")).to_have_count(0)
    gone = await tab.context.request.get(
        f"{offline_server.url}/v1/models", headers={"Authorization": f"Bearer {secret}"}
    )
    assert gone.status == 401

    # A wrong current password is refused; the right one changes it and the page stays signed in.
    form = page.locator("#password-form")
    await form.locator("input[name=old_password]").fill("not my password 1")
    await form.locator("input[name=new_password]").fill("a brand new pass 2")
    await form.locator("input[name=new_password2]").fill("a brand new pass 2")
    await form.locator("button[type=submit]").click()
    await expect(form.locator(".notice")).to_contain_text("current password is incorrect")
    await form.locator("input[name=old_password]").fill(PASSWORD)
    await form.locator("button[type=submit]").click()
    await expect(form.locator(".notice")).to_contain_text("Your password was changed")
    await page.reload()
    await expect(page.locator("#profile-username")).to_have_text(name)
    await page.locator("#logout").click()
    await log_in(tab, name, password="a brand new pass 2")
    tab.assert_no_script_errors()
    await tab.context.close()


async def test_download_my_data_and_delete_my_account(browser: Browser, offline_server: Server) -> None:
    tab = await new_tab(browser, offline_server)
    page = tab.page
    name = new_username("leaving")
    await sign_up(tab, name)
    await page.locator("select[name=mode]").select_option("conversation")
    await page.locator("#new-chat button[type=submit]").click()
    await page.locator("#message").fill("I like hiking on weekends.")
    await page.locator("#message").press("Enter")
    await expect(page.locator("li.message.assistant[data-id]")).to_have_count(1)
    await page.locator("#nav-me").click()

    # E-mail change needs the current password.
    await page.locator("#email-form input[name=email]").fill(f"new.{name}@example.com")
    await page.locator("#email-form input[name=password]").fill(PASSWORD)
    await page.locator("#email-form button[type=submit]").click()
    await expect(page.locator("#profile-email")).to_have_text(f"new.{name}@example.com")

    async with page.expect_download() as download_info:
        await page.locator("#download-data").click()
    download = await download_info.value
    assert download.suggested_filename == f"chatcore-export-{name}.json"
    exported = json.loads(await asyncio.to_thread(Path(await download.path()).read_text))
    assert "I like hiking on weekends." in json.dumps(exported)
    assert PASSWORD not in json.dumps(exported)

    await page.locator("#delete-password").fill(PASSWORD)
    await page.locator("#delete-form button[type=submit]").click()
    dialog = page.locator("#dialog")
    await expect(dialog).to_contain_text("all your chats and their messages")
    await expect(dialog).to_contain_text("your API keys")
    await expect(dialog).to_contain_text("cannot be undone")
    await page.locator("#dialog-ok").click()
    await expect(page).to_have_url(re.compile("#/login$"))
    await page.locator("input[name=username]").fill(name)
    await page.locator("input[name=password]").fill(PASSWORD)
    await page.locator("main form button[type=submit]").click()
    await expect(page.locator("main .notice")).to_contain_text("username or password is wrong")
    tab.assert_no_script_errors()
    await tab.context.close()


async def test_linked_accounts_link_and_unlink(browser: Browser, offline_server: Server) -> None:
    """Against the provider endpoints' documented answers (served here by the test)."""
    tab = await new_tab(browser, offline_server)
    page = tab.page
    await sign_up(tab, new_username("linked"))

    async def mypage(route: Route) -> None:
        response = await route.fetch()
        body = await response.json()
        if route.request.method == "GET":
            body["linked_accounts"] = [{"provider": "github", "login": "octo-learner"}]
        await route.fulfill(response=response, json=body)

    async def providers(route: Route) -> None:
        await route.fulfill(
            json={
                "providers": [
                    {"name": "github", "login_url": "/accounts/oauth/github/login"},
                    {"name": "kakao", "login_url": "/accounts/oauth/kakao/login"},
                ]
            }
        )

    unlinks: list[str] = []

    async def unlink(route: Route) -> None:
        unlinks.append(route.request.method)
        if len(unlinks) == 1:
            body = {"code": "last_login_method", "detail": "It is the last way to log in."}
            await route.fulfill(status=409, json=body)
        else:
            await route.fulfill(status=204)

    async def link(route: Route) -> None:
        await route.fulfill(json={"url": f"{offline_server.url}/#/oauth?linked=kakao"})

    await page.route("**/accounts/mypage/", mypage)
    await page.route("**/accounts/oauth/providers/", providers)
    await page.route("**/accounts/oauth/github/", unlink)
    await page.route("**/accounts/oauth/kakao/link/", link)
    await page.locator("#nav-me").click()
    item = page.locator("#linked-accounts li[data-provider=github]")
    await expect(item).to_contain_text("GitHub: octo-learner")
    section = page.locator("section", has=page.locator("#linked-accounts"))
    await expect(section.get_by_role("button", name="Link Kakao", exact=True)).to_be_visible()
    await expect(section.get_by_role("button", name="Link GitHub", exact=True)).to_have_count(0)

    await item.get_by_role("button", name="Unlink GitHub").click()
    await page.locator("#dialog-ok").click()
    await expect(section.locator(".notice")).to_have_text(
        "This is your only way to log in: link another account first."
    )
    await item.get_by_role("button", name="Unlink GitHub").click()
    await page.locator("#dialog-ok").click()
    await expect(item).to_have_count(0)
    assert unlinks == ["DELETE", "DELETE"]

    await section.get_by_role("button", name="Link Kakao", exact=True).click()
    await expect(page.locator("h1")).to_have_text("Linked accounts")
    await expect(page.locator("main [role=status]")).to_have_text("Kakao is now linked to your account.")
    tab.assert_no_script_errors()
    await tab.context.close()
