from city_common.serve import serve
from grid_events.bootstrap import create_app
from grid_events.config import Settings


def main() -> None:
    serve(create_app, Settings())


if __name__ == "__main__":
    main()
