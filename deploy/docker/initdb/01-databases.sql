-- Run once by the postgis/postgis image's entrypoint on an empty data directory
-- (files in /docker-entrypoint-initdb.d, as POSTGRES_USER, through psql, so the
-- \connect meta-command works). One database per service, each with PostGIS, so
-- the migrations' CREATE EXTENSION IF NOT EXISTS postgis is a no-op.

CREATE DATABASE gateway;
CREATE DATABASE traffic_signal;
CREATE DATABASE video_ingest;
CREATE DATABASE fire_detect;
CREATE DATABASE air_water;
CREATE DATABASE health_record;
CREATE DATABASE enterprise_hub;
CREATE DATABASE grid_events;

\connect gateway
CREATE EXTENSION IF NOT EXISTS postgis;
\connect traffic_signal
CREATE EXTENSION IF NOT EXISTS postgis;
\connect video_ingest
CREATE EXTENSION IF NOT EXISTS postgis;
\connect fire_detect
CREATE EXTENSION IF NOT EXISTS postgis;
\connect air_water
CREATE EXTENSION IF NOT EXISTS postgis;
\connect health_record
CREATE EXTENSION IF NOT EXISTS postgis;
\connect enterprise_hub
CREATE EXTENSION IF NOT EXISTS postgis;
\connect grid_events
CREATE EXTENSION IF NOT EXISTS postgis;
