DROP TABLE case_facts;
