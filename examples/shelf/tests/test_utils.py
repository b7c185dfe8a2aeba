import pytest
from fastapi.testclient import TestClient

from app import cli
from app.core.config import settings


def test_health_check(client: TestClient) -> None:
    response = client.get(f"{settings.API_V1_STR}/utils/health-check/")
    assert response.status_code == 200
    assert response.json() is True


def test_categories_from_the_data_directory(client: TestClient) -> None:
    response = client.get(f"{settings.API_V1_STR}/categories/")
    assert response.status_code == 200
    assert {"slug": "books", "name": "Books"} in response.json()


def test_cli_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["--version"])
    assert capsys.readouterr().out.strip() == "shelf 0.1.0"
