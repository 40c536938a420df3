from air_water.bootstrap import create_app
from air_water.config import Settings
from city_common.serve import serve


def main() -> None:
    serve(create_app, Settings())


if __name__ == "__main__":
    main()
