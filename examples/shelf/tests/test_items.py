from fastapi.testclient import TestClient

from app.core.config import settings

ITEMS = f"{settings.API_V1_STR}/items/"


def test_create_read_delete_item(client: TestClient) -> None:
    response = client.post(ITEMS, json={"title": "Dune", "description": "A novel"})
    assert response.status_code == 200
    item = response.json()
    assert item["title"] == "Dune"

    response = client.get(f"{ITEMS}{item['id']}")
    assert response.status_code == 200
    assert response.json() == item

    response = client.get(ITEMS)
    assert response.json() == {"data": [item], "count": 1}

    response = client.delete(f"{ITEMS}{item['id']}")
    assert response.status_code == 200
    assert client.get(f"{ITEMS}{item['id']}").status_code == 404


def test_blank_client_header_is_refused(client: TestClient) -> None:
    assert client.get(ITEMS, headers={"X-Shelf-Client": "web"}).status_code == 200
    assert client.get(ITEMS, headers={"X-Shelf-Client": " "}).status_code == 400
