from city_common.serve import serve
from video_ingest.bootstrap import create_app
from video_ingest.config import Settings


def main() -> None:
    serve(create_app, Settings())


if __name__ == "__main__":
    main()
