"""The one error shape for every failure, including the framework's own 404 and 405."""


def test_unknown_routes_and_wrong_methods_keep_the_one_error_shape(client):
    missing = client.get("/v1/nowhere")
    wrong = client.delete("/health")
    assert missing.status_code == 404 and missing.json()["name"] == "not_found"
    assert wrong.status_code == 405 and wrong.json()["name"] == "method_not_allowed"
    for answer in (missing, wrong):
        assert set(answer.json()) == {"name", "message", "request_id"}
        assert answer.headers["content-type"].startswith("application/json")
