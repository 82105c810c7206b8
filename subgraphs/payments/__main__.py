from subgraphs.common import run
from subgraphs.payments.app import create_payments_app

if __name__ == "__main__":
    run("payments", 4002, create_payments_app)
