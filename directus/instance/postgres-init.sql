-- Directus gets its own role and database next to the portal's (docker-compose.yml).
CREATE ROLE directus LOGIN PASSWORD 'directus';
CREATE DATABASE directus OWNER directus;
