"""The fake Slack's usergroups.users.update answers the official client as Slack does."""

from __future__ import annotations

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from koban.fakes.slack import FakeSlack


async def test_usergroups_users_update_sets_the_whole_membership_and_refuses_bad_input():
    async with FakeSlack(token="xoxb-ok") as fake:
        client = AsyncWebClient(token="xoxb-ok", base_url=fake.base_url)
        got = await client.usergroups_users_update(usergroup="S0WEB", users=["U0A", "U0B"])
        assert got["usergroup"]["users"] == ["U0A", "U0B"] and got["usergroup"]["user_count"] == 2
        await client.usergroups_users_update(usergroup="S0WEB", users=["U0C"])
        assert fake.usergroups == {"S0WEB": ["U0C"]}  # replaced, not added to
        for group, users, error in (
            ("C0NOPE", ["U0A"], "no_such_subteam"),
            ("S0WEB", [], "no_users_provided"),
            ("S0WEB", ["bob"], "invalid_users"),
        ):
            with pytest.raises(SlackApiError) as e:
                await client.usergroups_users_update(usergroup=group, users=users)
            assert e.value.response["error"] == error
        bad = AsyncWebClient(token="xoxb-wrong", base_url=fake.base_url)
        with pytest.raises(SlackApiError) as e:
            await bad.usergroups_users_update(usergroup="S0WEB", users=["U0A"])
        assert e.value.response["error"] == "invalid_auth"
        assert fake.usergroups == {"S0WEB": ["U0C"]}
