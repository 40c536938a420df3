from city_common.serve import serve
from gateway.bootstrap import create_app
from gateway.config import Settings


def main() -> None:
    serve(create_app, Settings())


if __name__ == "__main__":
    main()
