from city_common.serve import serve
from traffic_signal.bootstrap import create_app
from traffic_signal.config import Settings


def main() -> None:
    serve(create_app, Settings())


if __name__ == "__main__":
    main()
