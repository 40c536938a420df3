from city_common.serve import serve
from fire_detect.bootstrap import create_app
from fire_detect.config import Settings


def main() -> None:
    serve(create_app, Settings())


if __name__ == "__main__":
    main()
