"""Endpoint behaviour, exercised through Starlette's ASGI test client."""

import pytest
from fastapi.testclient import TestClient

from fastapi_demo import __version__
from fastapi_demo.main import app


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(app)


def test_root_greets(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.json() == {"message": "Hello from FastAPI!"}


@pytest.mark.parametrize("item_id", [0, 42, -7])
def test_item_echoes_integer_id(client: TestClient, item_id: int) -> None:
    response = client.get(f"/items/{item_id}")
    assert response.status_code == 200
    assert response.json() == {"item_id": item_id, "message": "This is an item"}


@pytest.mark.parametrize("bad", ["abc", "1.5", "4x"])
def test_item_rejects_non_integer(client: TestClient, bad: str) -> None:
    response = client.get(f"/items/{bad}")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["path", "item_id"]


def test_health_reports_status_and_version(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "version": __version__}


def test_unknown_path_is_404(client: TestClient) -> None:
    assert client.get("/nope").status_code == 404
