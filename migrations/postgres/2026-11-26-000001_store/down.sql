DROP TABLE tokens;
DROP VIEW current_road_segments, current_blocks, current_extended_grids, current_street_grids,
    current_resident_grids, current_district, current_streets;
DROP TABLE features;
DROP TABLE generations;
DROP TABLE draft_features;
DROP TABLE drafts;
