"""JWT authentication and @authenticated / @requiresScopes, through a running gateway."""

from __future__ import annotations

import jwt
import pytest

QUERY = "{ public secret admin profile { name } items { id owner } }"


def _codes(body):
    return {(tuple(e["path"]) if "path" in e else None): e["extensions"]["code"] for e in body.get("errors", [])}


def _bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def test_anonymous_request_gets_nulls_and_errors_for_protected_fields_only(strict):
    response = strict.post(QUERY)

    assert response.status_code == 200
    body = response.json()
    assert body["data"] == {
        "public": "public",
        "secret": None,
        "admin": None,
        "profile": None,
        "items": [{"id": "1", "owner": None}, {"id": "2", "owner": None}],
    }
    assert _codes(body) == {
        ("secret",): "UNAUTHORIZED_FIELD_OR_TYPE",
        ("admin",): "UNAUTHORIZED_FIELD_OR_TYPE",
        ("profile",): "UNAUTHORIZED_FIELD_OR_TYPE",
        ("items", "@", "owner"): "UNAUTHORIZED_FIELD_OR_TYPE",
    }


def test_rs256_token_with_one_scope_alternative(strict, keys):
    body = strict.post(QUERY, headers=_bearer(keys.token("RS256", scope="profile:read"))).json()

    assert body["data"]["secret"] == "secret"
    assert body["data"]["profile"] == {"name": "Ann"}
    assert body["data"]["items"][0]["owner"] == "ann"
    # `admin` needs both "admin" and "write".
    assert body["data"]["admin"] is None
    assert _codes(body) == {("admin",): "UNAUTHORIZED_FIELD_OR_TYPE"}


def test_es256_token_from_the_jwks_url_with_all_scopes(strict, keys):
    body = strict.post(QUERY, headers=_bearer(keys.token("ES256", scope="admin write"))).json()

    assert "errors" not in body
    assert body["data"]["admin"] == "admin" and body["data"]["profile"] == {"name": "Ann"}


def test_hs256_token_from_an_oct_key(strict, keys):
    body = strict.post("{ secret }", headers=_bearer(keys.token("HS256"))).json()
    assert body == {"data": {"secret": "secret"}}


def test_every_root_field_refused_answers_without_calling_the_subgraph(strict):
    body = strict.post("{ secret admin }").json()
    assert body["data"] == {"secret": None, "admin": None}
    assert set(_codes(body).values()) == {"UNAUTHORIZED_FIELD_OR_TYPE"}


def test_fragments_and_aliases_are_filtered_too(strict):
    query = "query Q { ...F mine: items { ... on Item { id owner } } } fragment F on Query { public hidden: secret }"
    body = strict.post(query).json()
    assert body["data"] == {"public": "public", "hidden": None, "mine": [{"id": "1", "owner": None}, {"id": "2", "owner": None}]}
    assert set(_codes(body)) == {("hidden",), ("mine", "@", "owner")}


def test_a_refused_non_null_field_nulls_its_nearest_nullable_ancestor(strict):
    # `code: String!` in `[Item]!`: the items become null, the list stays.
    body = strict.post("{ public maybeItems { id code } }").json()
    assert body["data"] == {"public": "public", "maybeItems": [None, None]}
    assert _codes(body) == {("maybeItems", "@", "code"): "UNAUTHORIZED_FIELD_OR_TYPE"}
    # In `[Item!]!` nothing nullable is left on the way up: `data` is null.
    body = strict.post("{ public items { id code } }").json()
    assert body["data"] is None
    assert _codes(body) == {("items", "@", "code"): "UNAUTHORIZED_FIELD_OR_TYPE"}


def test_a_field_left_with_nothing_selected_is_null(strict):
    # `items { owner }` has nothing left to ask; `items: [Item!]!` cannot be null, so `data` is.
    body = strict.post("{ public items { owner } }").json()
    assert body["data"] is None
    body = strict.post("{ public wrapped: profile { name } }").json()
    assert body["data"] == {"public": "public", "wrapped": None}


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda k: k.token("RS256", expires_in=-60), id="expired"),
        pytest.param(lambda k: k.token("RS256")[:-4] + "AAAA", id="bad-signature"),
        pytest.param(lambda k: jwt.encode({"sub": "x", "exp": 2**31}, key=None, algorithm="none"), id="alg-none"),
        pytest.param(lambda k: jwt.encode({"sub": "x", "exp": 2**31}, b"another-secret-that-is-long-enough!!",
                                          algorithm="HS256", headers={"kid": "hs-1"}), id="wrong-key"),
        pytest.param(lambda k: "not.a.jwt", id="garbage"),
    ],
)
def test_untrustworthy_tokens_are_refused_with_401(strict, keys, make):
    response = strict.post("{ public }", headers=_bearer(make(keys)))

    assert response.status_code == 401
    body = response.json()
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert "data" not in body


def test_wrong_scheme_is_refused(strict, keys):
    response = strict.post("{ public }", headers={"authorization": f"Basic {keys.token()}"})
    assert response.status_code == 401


def test_required_authentication(masking, keys):
    assert masking.post("{ public }").status_code == 401
    assert masking.post("{ public }", headers=_bearer(keys.token())).json() == {"data": {"public": "public"}}


def test_no_client_header_reaches_subgraphs_by_default(strict, keys):
    """Only the request id and the trace context cross the gateway unless a header rule says otherwise."""
    trace = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    headers = {"authorization": f"Bearer {keys.token()}", "cookie": "session=1", "x-tenant": "acme",
               "traceparent": trace, "x-request-id": "rid-1"}
    body = strict.post("{ headers { name value } }", headers=headers).json()
    seen = {h["name"]: h["value"] for h in body["data"]["headers"]}
    assert seen["x-request-id"] == "rid-1"
    assert seen["traceparent"] == trace  # tracing is off here: passed on unchanged
    assert not {"authorization", "cookie", "x-tenant"} & set(seen)
