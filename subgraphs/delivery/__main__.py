from subgraphs.common import run
from subgraphs.delivery.app import create_delivery_app

if __name__ == "__main__":
    run("delivery", 4003, create_delivery_app)
