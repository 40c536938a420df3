from city_common.serve import serve
from health_record.bootstrap import create_app
from health_record.config import Settings


def main() -> None:
    serve(create_app, Settings())


if __name__ == "__main__":
    main()
