from subgraphs.common import run
from subgraphs.orders.app import create_orders_app

if __name__ == "__main__":
    run("orders", 4001, create_orders_app)
