DROP TABLE shop_points;
DROP TABLE shop_inspections;
DROP TABLE shops;
DROP TABLE components;
