from city_common.serve import serve
from enterprise_hub.bootstrap import create_app
from enterprise_hub.config import Settings


def main() -> None:
    serve(create_app, Settings())


if __name__ == "__main__":
    main()
