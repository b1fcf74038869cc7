-- The demo company: a deterministic generator of a realistic Kenyan
-- field-service company (branches, skills, technicians with shifts, ratings
-- and GPS pings, customers with preferred technicians, sites, assets, work
-- orders that follow the standard workflow, with their lead technicians,
-- approvals, proof of completion and history, and the Nairobi branch's
-- morning queue for dispatch to plan) for the demo, the benchmarks and
-- manual testing.  Everything is set-based, so a million work
-- orders load in minutes, and every value comes from a hash of (seed,
-- stream, ordinal), so the same seed gives the same company whatever the ids
-- are.

CREATE FUNCTION @extschema@.demo_generate(p_work_orders integer DEFAULT 5000, p_seed integer DEFAULT 1)
    RETURNS bigint
    LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE
    -- JIT would spend minutes compiling the big generating statements
    SET jit = off
    AS $$
DECLARE
    c_tz constant text := 'Africa/Nairobi';
    -- The three city branches, each under a region under head office.
    c_cities constant jsonb := '[
        {"ord": 1, "code": "NBO", "name": "Nairobi branch", "lat": -1.2921, "lon": 36.8219,
         "address": "Kenyatta Avenue, Nairobi CBD", "city": "Nairobi", "county": "Nairobi",
         "region_code": "CENTRAL", "region_name": "Nairobi and Central region", "dispatcher": "grace.wanjiku",
         "manager": "peter.mwangi"},
        {"ord": 2, "code": "MSA", "name": "Mombasa branch", "lat": -4.0435, "lon": 39.6682,
         "address": "Moi Avenue, Mombasa", "city": "Mombasa", "county": "Mombasa",
         "region_code": "COAST", "region_name": "Coast region", "dispatcher": "amina.hassan",
         "manager": "salim.abdalla"},
        {"ord": 3, "code": "KSM", "name": "Kisumu branch", "lat": -0.0917, "lon": 34.7680,
         "address": "Oginga Odinga Street, Kisumu", "city": "Kisumu", "county": "Kisumu",
         "region_code": "NYANZA", "region_name": "Nyanza and Western region", "dispatcher": "brian.otieno",
         "manager": "mercy.achieng"}]';
    -- Real areas of the three cities: centre and how far sites spread (degrees).
    c_areas constant jsonb := '[
        {"branch": "NBO", "name": "Westlands", "lat": -1.2676, "lon": 36.8108, "road": "Waiyaki Way", "spread": 0.008},
        {"branch": "NBO", "name": "Kilimani", "lat": -1.2905, "lon": 36.7850, "road": "Argwings Kodhek Road", "spread": 0.007},
        {"branch": "NBO", "name": "Upper Hill", "lat": -1.2990, "lon": 36.8140, "road": "Hospital Road", "spread": 0.005},
        {"branch": "NBO", "name": "Industrial Area", "lat": -1.3080, "lon": 36.8510, "road": "Enterprise Road", "spread": 0.010},
        {"branch": "NBO", "name": "Nairobi CBD", "lat": -1.2841, "lon": 36.8233, "road": "Moi Avenue", "spread": 0.004},
        {"branch": "NBO", "name": "Karen", "lat": -1.3197, "lon": 36.7073, "road": "Karen Road", "spread": 0.015},
        {"branch": "NBO", "name": "Lavington", "lat": -1.2800, "lon": 36.7700, "road": "James Gichuru Road", "spread": 0.008},
        {"branch": "NBO", "name": "Parklands", "lat": -1.2630, "lon": 36.8180, "road": "Limuru Road", "spread": 0.006},
        {"branch": "NBO", "name": "Kasarani", "lat": -1.2210, "lon": 36.8970, "road": "Thika Road", "spread": 0.012},
        {"branch": "NBO", "name": "Embakasi", "lat": -1.3150, "lon": 36.8950, "road": "Outering Road", "spread": 0.012},
        {"branch": "NBO", "name": "Eastleigh", "lat": -1.2740, "lon": 36.8520, "road": "First Avenue", "spread": 0.007},
        {"branch": "NBO", "name": "South B", "lat": -1.3100, "lon": 36.8400, "road": "Mchumbi Road", "spread": 0.005},
        {"branch": "NBO", "name": "Runda", "lat": -1.2170, "lon": 36.8090, "road": "Runda Grove", "spread": 0.008},
        {"branch": "MSA", "name": "Nyali", "lat": -4.0225, "lon": 39.7117, "road": "Links Road", "spread": 0.007},
        {"branch": "MSA", "name": "Likoni", "lat": -4.0833, "lon": 39.6667, "road": "Likoni Road", "spread": 0.008},
        {"branch": "MSA", "name": "Mombasa Old Town", "lat": -4.0620, "lon": 39.6780, "road": "Digo Road", "spread": 0.004},
        {"branch": "MSA", "name": "Tudor", "lat": -4.0480, "lon": 39.6740, "road": "Tudor Road", "spread": 0.004},
        {"branch": "MSA", "name": "Bamburi", "lat": -3.9960, "lon": 39.7170, "road": "Malindi Road", "spread": 0.008},
        {"branch": "MSA", "name": "Changamwe", "lat": -4.0260, "lon": 39.6300, "road": "Magongo Road", "spread": 0.008},
        {"branch": "MSA", "name": "Shanzu", "lat": -3.9850, "lon": 39.7400, "road": "Shanzu Road", "spread": 0.006},
        {"branch": "MSA", "name": "Kizingo", "lat": -4.0700, "lon": 39.6720, "road": "Kizingo Road", "spread": 0.004},
        {"branch": "KSM", "name": "Milimani", "lat": -0.0990, "lon": 34.7530, "road": "Aga Khan Road", "spread": 0.005},
        {"branch": "KSM", "name": "Kisumu CBD", "lat": -0.1022, "lon": 34.7617, "road": "Oginga Odinga Street", "spread": 0.004},
        {"branch": "KSM", "name": "Mamboleo", "lat": -0.0650, "lon": 34.7880, "road": "Kakamega Road", "spread": 0.008},
        {"branch": "KSM", "name": "Nyalenda", "lat": -0.1120, "lon": 34.7750, "road": "Ring Road", "spread": 0.005},
        {"branch": "KSM", "name": "Kondele", "lat": -0.0880, "lon": 34.7720, "road": "Nairobi Road", "spread": 0.005},
        {"branch": "KSM", "name": "Manyatta", "lat": -0.0940, "lon": 34.7830, "road": "Manyatta Road", "spread": 0.005},
        {"branch": "KSM", "name": "Kibos", "lat": -0.0520, "lon": 34.8150, "road": "Kibos Road", "spread": 0.008}]';
    c_skills constant jsonb := '[
        {"code": "electrical", "name": "Electrical", "certified": true},
        {"code": "plumbing", "name": "Plumbing", "certified": true},
        {"code": "hvac", "name": "HVAC and refrigeration", "certified": true},
        {"code": "solar", "name": "Solar PV", "certified": true},
        {"code": "telecom", "name": "Telecom and networking", "certified": true},
        {"code": "appliances", "name": "Home and commercial appliances", "certified": false},
        {"code": "it", "name": "IT support", "certified": false}]';
    -- Work-order types beyond the seeded installation, repair, maintenance, inspection.
    c_types constant jsonb := '[
        {"code": "solar_install", "name": "Solar PV installation", "default_priority": "normal", "estimated_duration": "6 hours", "required_skills": {"solar": 3, "electrical": 2}},
        {"code": "solar_service", "name": "Solar system service", "default_priority": "normal", "estimated_duration": "2 hours", "required_skills": {"solar": 2}},
        {"code": "generator_service", "name": "Generator service", "default_priority": "normal", "estimated_duration": "3 hours", "required_skills": {"electrical": 3}},
        {"code": "electrical_fault", "name": "Electrical fault", "default_priority": "high", "estimated_duration": "2 hours", "required_skills": {"electrical": 2}},
        {"code": "ac_install", "name": "Air conditioner installation", "default_priority": "normal", "estimated_duration": "4 hours", "required_skills": {"hvac": 3, "electrical": 1}},
        {"code": "ac_service", "name": "Air conditioner service", "default_priority": "normal", "estimated_duration": "90 minutes", "required_skills": {"hvac": 2}},
        {"code": "plumbing_repair", "name": "Plumbing repair", "default_priority": "high", "estimated_duration": "2 hours", "required_skills": {"plumbing": 2}},
        {"code": "water_pump_repair", "name": "Water pump repair", "default_priority": "high", "estimated_duration": "3 hours", "required_skills": {"plumbing": 2, "electrical": 2}},
        {"code": "network_install", "name": "Network installation", "default_priority": "normal", "estimated_duration": "4 hours", "required_skills": {"telecom": 3, "it": 2}},
        {"code": "internet_outage", "name": "Internet outage", "default_priority": "high", "estimated_duration": "90 minutes", "required_skills": {"telecom": 2}},
        {"code": "appliance_repair", "name": "Appliance repair", "default_priority": "normal", "estimated_duration": "90 minutes", "required_skills": {"appliances": 2}},
        {"code": "it_support", "name": "IT support visit", "default_priority": "low", "estimated_duration": "1 hour", "required_skills": {"it": 2}}]';
    -- What customers ask for, per type.
    c_descriptions constant jsonb := '{
        "installation": ["Install equipment supplied by the customer", "Install security lights in the compound", "Install an electric fence energiser"],
        "repair": ["Equipment not working, please send a technician", "Repair the damaged unit", "Follow-up repair after the last visit"],
        "maintenance": ["Scheduled preventive maintenance", "Quarterly maintenance visit", "Annual maintenance visit"],
        "inspection": ["Safety inspection before handover", "Annual electrical compliance inspection", "Insurance inspection of installed equipment"],
        "solar_install": ["Install a rooftop solar PV system with battery backup", "Install solar panels and a hybrid inverter for the main building", "Add a solar array to cut diesel costs"],
        "solar_service": ["Solar output has dropped; clean the panels and check the inverter", "Inverter shows a battery fault", "Routine solar system check"],
        "generator_service": ["250-hour generator service: oil, filters and belts", "Generator fails to start on mains failure", "Generator overheats under load"],
        "electrical_fault": ["Breaker keeps tripping on the ground floor", "No power in part of the building", "Burning smell from the distribution board", "Sockets in the kitchen not working"],
        "ac_install": ["Install a new split AC in the boardroom", "Install two AC units in the server room", "Relocate and reinstall an AC unit"],
        "ac_service": ["AC not cooling", "AC leaking water inside the room", "Quarterly AC service: clean the filters and check the gas"],
        "plumbing_repair": ["Burst pipe in the washroom", "Blocked drain in the kitchen", "Water tank overflowing", "Leaking tap and low water pressure"],
        "water_pump_repair": ["Borehole pump not delivering water", "Booster pump cycling on and off", "Pump motor keeps tripping"],
        "network_install": ["Install structured cabling and Wi-Fi for the new office", "Set up a LAN for twelve workstations", "Extend Wi-Fi coverage to the warehouse"],
        "internet_outage": ["Internet down since morning", "Slow and intermittent internet", "Fibre link down after road works"],
        "appliance_repair": ["Fridge not cooling", "Washing machine not draining", "Oven not heating"],
        "it_support": ["Printer not connecting to the network", "Set up new laptops for staff", "POS terminal keeps freezing"]}';
    -- Equipment at sites, and the types of work each kind of equipment needs.
    c_asset_models constant jsonb := '[
        {"category": "generator", "name": "Standby generator 100 kVA", "make": "FG Wilson", "model": "P110-3", "prefix": "FGW", "warranty_years": 2},
        {"category": "generator", "name": "Standby generator 33 kVA", "make": "Cummins", "model": "C33 D5", "prefix": "CUM", "warranty_years": 2},
        {"category": "generator", "name": "Prime generator 220 kVA", "make": "Perkins", "model": "P220HE", "prefix": "PKS", "warranty_years": 1},
        {"category": "generator", "name": "Standby generator 60 kVA", "make": "Caterpillar", "model": "DE65E2", "prefix": "CAT", "warranty_years": 2},
        {"category": "ac_unit", "name": "Split AC 12,000 BTU", "make": "Daikin", "model": "FTKF35", "prefix": "DKN", "warranty_years": 3},
        {"category": "ac_unit", "name": "Split AC 18,000 BTU", "make": "LG", "model": "S4-Q18KL3WF", "prefix": "LGE", "warranty_years": 2},
        {"category": "ac_unit", "name": "Split AC 24,000 BTU", "make": "Samsung", "model": "AR24TXHQASI", "prefix": "SAM", "warranty_years": 2},
        {"category": "ac_unit", "name": "Cassette AC 36,000 BTU", "make": "Midea", "model": "MCD-36HRN1", "prefix": "MDA", "warranty_years": 2},
        {"category": "ac_unit", "name": "Cold room condensing unit", "make": "Carrier", "model": "38HDR060", "prefix": "CAR", "warranty_years": 1},
        {"category": "inverter", "name": "Hybrid solar inverter 5 kW", "make": "Growatt", "model": "SPF 5000 ES", "prefix": "GRW", "warranty_years": 5},
        {"category": "inverter", "name": "Solar inverter 10 kW", "make": "Huawei", "model": "SUN2000-10KTL", "prefix": "HWS", "warranty_years": 5},
        {"category": "inverter", "name": "Off-grid inverter 3 kVA", "make": "Victron", "model": "MultiPlus-II 48/3000", "prefix": "VIC", "warranty_years": 5},
        {"category": "inverter", "name": "Hybrid inverter 8 kW", "make": "Deye", "model": "SUN-8K-SG01LP1", "prefix": "DEY", "warranty_years": 5},
        {"category": "water_pump", "name": "Borehole pump", "make": "Grundfos", "model": "SP 5A-12", "prefix": "GRF", "warranty_years": 2},
        {"category": "water_pump", "name": "Booster pump", "make": "Pedrollo", "model": "PKm 60", "prefix": "PED", "warranty_years": 1},
        {"category": "water_pump", "name": "Solar water pump", "make": "Davis & Shirtliff", "model": "Sunflo-P", "prefix": "DSL", "warranty_years": 2},
        {"category": "water_pump", "name": "Pressure booster set", "make": "Lowara", "model": "e-SV 3", "prefix": "LOW", "warranty_years": 1},
        {"category": "router", "name": "Core router", "make": "MikroTik", "model": "CCR2004-16G-2S+", "prefix": "MTK", "warranty_years": 1},
        {"category": "router", "name": "Edge router", "make": "Cisco", "model": "ISR 1111-8P", "prefix": "CSC", "warranty_years": 1},
        {"category": "router", "name": "Wi-Fi router", "make": "TP-Link", "model": "Archer AX55", "prefix": "TPL", "warranty_years": 2},
        {"category": "router", "name": "Fibre ONT router", "make": "Huawei", "model": "EchoLife HG8145V5", "prefix": "HWO", "warranty_years": 1},
        {"category": "ups", "name": "UPS 3 kVA", "make": "APC", "model": "SRT3KXLI", "prefix": "APC", "warranty_years": 2},
        {"category": "ups", "name": "UPS 10 kVA", "make": "Eaton", "model": "9SX 10K", "prefix": "ETN", "warranty_years": 2},
        {"category": "appliance", "name": "Refrigerator", "make": "Hisense", "model": "RD-60WC4SB", "prefix": "HIS", "warranty_years": 2},
        {"category": "appliance", "name": "Washing machine", "make": "Samsung", "model": "WW80T4020EE", "prefix": "SWM", "warranty_years": 2}]';
    c_asset_types constant jsonb := '{
        "generator": ["generator_service", "generator_service", "generator_service", "repair", "repair", "electrical_fault", "inspection"],
        "ac_unit": ["ac_service", "ac_service", "ac_service", "ac_service", "repair", "repair", "inspection"],
        "inverter": ["solar_service", "solar_service", "solar_service", "solar_service", "repair", "electrical_fault", "inspection"],
        "water_pump": ["water_pump_repair", "water_pump_repair", "water_pump_repair", "maintenance", "maintenance", "plumbing_repair"],
        "router": ["internet_outage", "internet_outage", "internet_outage", "maintenance", "network_install"],
        "ups": ["it_support", "it_support", "repair", "electrical_fault"],
        "appliance": ["appliance_repair", "appliance_repair", "appliance_repair", "appliance_repair", "repair"]}';
    -- Skill profiles of technicians, dealt round-robin within each branch; the
    -- first ones cover every skill, so even a small branch can do every job.
    c_profiles constant text[] := ARRAY[
        'electrical', 'plumbing', 'hvac,electrical', 'solar,electrical', 'telecom,it', 'appliances,electrical',
        'it', 'plumbing,electrical', 'electrical,solar,plumbing', 'hvac,appliances', 'solar,electrical,it',
        'telecom', 'electrical,hvac,plumbing', 'it,telecom', 'solar,electrical', 'appliances'];
    c_first constant text[] := ARRAY[
        'John', 'Mary', 'Peter', 'Grace', 'James', 'Faith', 'Joseph', 'Mercy', 'David', 'Esther',
        'Daniel', 'Lucy', 'Samuel', 'Ann', 'Brian', 'Caroline', 'Kevin', 'Purity', 'Dennis', 'Winnie',
        'Collins', 'Sharon', 'Victor', 'Joy', 'Evans', 'Beatrice', 'Felix', 'Cynthia', 'Kennedy', 'Naomi',
        'Hassan', 'Amina', 'Omar', 'Fatuma', 'Ali', 'Zawadi', 'Baraka', 'Wanjiru', 'Akinyi', 'Kiprono',
        'Chebet', 'Njeri', 'Otieno', 'Achieng', 'Mwende', 'Nekesa', 'Jeptoo', 'Kamau'];
    c_last constant text[] := ARRAY[
        'Kamau', 'Otieno', 'Wanjiku', 'Mwangi', 'Ochieng', 'Njoroge', 'Kiprotich', 'Mutua', 'Onyango', 'Wafula',
        'Kariuki', 'Odhiambo', 'Chebet', 'Kiptoo', 'Omondi', 'Njeri', 'Wekesa', 'Achieng', 'Musyoka', 'Mohamed',
        'Juma', 'Atieno', 'Korir', 'Ndungu', 'Nyambura', 'Owino', 'Barasa', 'Cheruiyot', 'Kimani', 'Maina',
        'Mutiso', 'Rotich', 'Okoth', 'Wambui', 'Ouma', 'Langat', 'Kilonzo', 'Abdi', 'Salim', 'Mwakio'];
    c_business_words constant text[] := ARRAY[
        'Savannah', 'Jambo', 'Baobab', 'Tana', 'Rift Valley', 'Kilima', 'Simba', 'Twiga', 'Amani', 'Upendo',
        'Pwani', 'Lakeside', 'Nyota', 'Mlima', 'Zuri', 'Bahari', 'Kifaru', 'Acacia', 'Sunrise', 'Highlands',
        'Equator', 'Jamii', 'Imara', 'Tumaini', 'Umoja', 'Harambee', 'Mawingu', 'Neema', 'Faraja', 'Kito'];
    c_business_kinds constant text[] := ARRAY[
        'Supermarket', 'Hotel', 'Hospital', 'Academy', 'Apartments', 'Bakery', 'Pharmacy', 'Medical Centre',
        'Hardware', 'Motors', 'Logistics', 'Dairies', 'Agrovet', 'Plaza', 'Restaurant', 'School',
        'Service Station', 'Textiles', 'Cold Storage', 'Sacco', 'Guest House', 'Printers', 'Fresh Produce',
        'Water Bottlers'];
    c_contact_roles constant text[] := ARRAY[
        'Facilities manager', 'Office administrator', 'Operations manager', 'Maintenance supervisor', 'Owner'];
    c_access_notes constant text[] := ARRAY[
        'Call the caretaker on arrival', 'Report to security at the main gate with your staff ID',
        'Parking in the basement; ask reception for a pass', 'Dog in the compound; call before entering',
        'Access only between 8 am and 5 pm', 'Ask for the duty manager at the front desk'];
    -- Why work stops: the notes of moves to waiting_parts and waiting_customer.
    c_parts_reasons constant text[] := ARRAY[
        'Replacement part not in the van; ordered from the Nairobi store', 'Waiting for the supplier to deliver the spare part',
        'Wrong part delivered; the right one is on order', 'Part has to be imported; the customer agreed to wait'];
    c_customer_reasons constant text[] := ARRAY[
        'Customer not available to give access', 'No access to the site: the key holder is away',
        'Power outage at the site; cannot test until it is back', 'Customer wants to confirm the quotation first'];
    c_cancel_reasons constant text[] := ARRAY[
        'Cancelled by the customer', 'Duplicate request', 'The customer fixed it themselves', 'Customer unreachable after three calls'];
    c_approval_reasons constant text[] := ARRAY[
        'Price agreed with the customer', 'Within the customer''s approved budget', 'Customer paid the deposit'];
    -- What the technician reports when the work is done, per type.
    c_resolutions constant jsonb := '{
        "installation": ["Installed, tested and handed over; the customer was shown how to use it", "Mounted and wired the equipment; all working on test"],
        "repair": ["Replaced the faulty part and tested; working normally", "Repaired the wiring fault and tested under load", "Cleaned and re-terminated the connections; fault cleared"],
        "maintenance": ["Preventive maintenance done per checklist; no defects found", "Serviced and adjusted; recommended replacing worn parts at the next visit"],
        "inspection": ["Inspection done; report and certificate sent to the customer", "Inspection done; two minor defects noted in the report"],
        "solar_install": ["Installed the panels, mounting rails and hybrid inverter; commissioned and tested on battery", "Installed the array and the battery bank; system commissioned, customer trained"],
        "solar_service": ["Cleaned the panels and re-torqued the connections; output back to normal", "Replaced a failed battery; inverter fault cleared"],
        "generator_service": ["Changed the oil, oil and fuel filters and the fan belt; test run under load OK", "Replaced the starter battery and tested the changeover", "Cleaned the radiator and replaced the thermostat; runs cool under load"],
        "electrical_fault": ["Found and replaced a faulty breaker; circuits tested", "Traced a short circuit in the kitchen sockets and repaired it", "Re-terminated loose cables in the distribution board; no more tripping"],
        "ac_install": ["Installed the split unit, vacuumed and charged the lines; cooling tested", "Installed the units and the condensate drains; all cooling"],
        "ac_service": ["Cleaned the filters and coils, topped up the gas; cooling normally", "Cleared the blocked condensate drain; no more leaking", "Replaced the fan capacitor; unit cooling again"],
        "plumbing_repair": ["Replaced the burst section of pipe; no leaks", "Cleared the blocked drain and flushed the line", "Replaced the float valve; the tank no longer overflows"],
        "water_pump_repair": ["Replaced the pressure switch; pump cycles normally", "Pulled the borehole pump and replaced the worn impeller", "Rewired the pump motor and replaced the overload relay"],
        "network_install": ["Ran the cabling, terminated and tested all points; Wi-Fi configured", "Installed the switch and access points; coverage tested in every room"],
        "internet_outage": ["Spliced the damaged fibre; link back up", "Replaced the faulty router; connection restored", "Reconfigured the router after the ISP change; internet restored"],
        "appliance_repair": ["Replaced the thermostat; appliance working", "Replaced the drain pump; machine drains normally", "Replaced the heating element and tested"],
        "it_support": ["Reconfigured the printer on the network; printing from all PCs", "Set up the laptops with email and the shared drive", "Reinstalled the POS software and updated the drivers"]}';
    -- Quoted prices (KES) per type: the share of jobs quoted and the range;
    -- cheap quotes are commoner than dear ones.
    c_quotes constant jsonb := '{
        "solar_install": {"pct": 100, "min": 180000, "max": 1200000},
        "ac_install": {"pct": 100, "min": 45000, "max": 260000},
        "network_install": {"pct": 100, "min": 60000, "max": 450000},
        "installation": {"pct": 80, "min": 8000, "max": 150000},
        "generator_service": {"pct": 60, "min": 12000, "max": 65000},
        "water_pump_repair": {"pct": 50, "min": 6000, "max": 120000},
        "repair": {"pct": 40, "min": 3000, "max": 90000},
        "other": {"pct": 25, "min": 2500, "max": 40000}}';
    v_seed bigint;
    v_now timestamptz := pg_catalog.now();
    v_today date;
    v_technicians integer;
    v_customers integer;
    v_sites integer;
    v_n integer;
    v_tenant bigint;
    v_hq bigint;
    v_region bigint;
    v_city record;
    v_type jsonb;
    -- Lookup arrays: set-based statements below index them by ordinal
    -- instead of joining, so their plans never depend on table statistics
    -- (the rows are minutes old and have none).
    v_branch_id bigint[] := '{}';
    v_dispatcher text[] := '{}';
    v_manager text[] := '{}';
    v_city_name text[] := '{}';
    v_county text[] := '{}';
    v_area_name text[];
    v_area_road text[];
    v_area_lat float8[];
    v_area_lon float8[];
    v_area_spread float8[];
    v_branch_area1 integer[];
    v_branch_areas integer[];
    v_cust_id bigint[];
    v_cust_business boolean[];
    v_cust_branch integer[];
    v_cust_area integer[];
    v_cust_since timestamptz[];
    v_cust_sites integer[];
    v_cust_site1 integer[];
    v_site_id bigint[];
    v_site_area integer[];
    v_site_lat float8[];
    v_site_lon float8[];
    v_site_cust integer[];
    v_site_assets integer[];
    v_site_asset1 integer[];
    v_asset_id bigint[];
    v_assets integer;
    v_asset_model integer[];
    v_type_code text[];
    v_type_id bigint[];
    v_type_duration interval[];
    v_type_priority text[];
    v_priority_code text[];
    v_priority_id bigint[];
    v_crews jsonb;
    v_type_pool text[];
    v_priority_pool text[];
    v_source_pool text[];
    v_status_recent text[];
    v_status_mid text[];
    v_status_old text[];
    v_tech_id bigint[];
    v_workflow bigint;
    v_status_code text[];
    v_status_cat @extschema@.status_category[];
    v_large_quote bigint;
    v_large_quote_min numeric;
    v_seq_work_order regclass;
    v_seq_assignment regclass;
    v_seq_approval regclass;
    v_seq_attachment regclass;
    -- dispatch: shift calendars per branch, the Nairobi morning queue
    v_cal_day bigint[] := '{}';
    v_cal_late bigint[] := '{}';
    v_queue integer;
    v_queue_day date;
    v_queue_range tstzrange;
    v_queue_types text[];
    v_nbo_customers integer[];
BEGIN
    IF p_work_orders IS NULL THEN
        RAISE EXCEPTION 'number of work orders must not be null'
            USING ERRCODE = 'null_value_not_allowed',
                  DETAIL = 'womgr.demo_generate() creates a demo company with that many work orders.',
                  HINT = 'Pass a number from 1 to 10000000, or leave it out for 5000.';
    END IF;
    IF p_seed IS NULL THEN
        RAISE EXCEPTION 'seed must not be null'
            USING ERRCODE = 'null_value_not_allowed',
                  DETAIL = 'The seed decides the generated content: the same seed gives the same company.',
                  HINT = 'Pass any integer, or leave it out for seed 1.';
    END IF;
    IF p_work_orders NOT BETWEEN 1 AND 10000000 THEN
        RAISE EXCEPTION 'number of work orders % is out of range', p_work_orders
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'The demo company can have from 1 to 10000000 work orders.',
                  HINT = 'Pass 5000 for a quick demo, or up to 10000000 for benchmarks.';
    END IF;

    -- Every random choice is hashint8extended(ordinal, seed * 100 + stream):
    -- the same seed gives the same values whatever the plan, ids or order.
    v_seed := p_seed::bigint * 100;
    v_today := (v_now AT TIME ZONE c_tz)::date;
    v_technicians := greatest(60, p_work_orders / 500);
    v_customers := greatest(20, pg_catalog.round(p_work_orders / 2.5)::integer);
    -- The morning queue: up to 24 of the work orders are new requests for
    -- the Nairobi branch's next working day (tomorrow, Monday when tomorrow
    -- is a Sunday), left for dispatch to plan; the rest are the history.
    v_queue := least(24, p_work_orders / 10);
    v_queue_day := v_today + CASE WHEN extract(isodow FROM v_today + 1) = 7 THEN 2 ELSE 1 END;
    v_queue_range := pg_catalog.tstzrange(v_queue_day::timestamp AT TIME ZONE c_tz, (v_queue_day + 1)::timestamp AT TIME ZONE c_tz);

    -- A new tenant each call: demo-<seed>-1, demo-<seed>-2, ...
    SELECT 1 + coalesce(pg_catalog.max(substring(t.code FROM '^demo-' || p_seed::text || '-(\d{1,9})$')::integer), 0)
      INTO v_n
      FROM @extschema@.tenant t
     WHERE t.code LIKE 'demo-' || p_seed::text || '-%';
    LOOP
        BEGIN
            v_tenant := @extschema@.create_tenant(pg_catalog.jsonb_build_object(
                'code', pg_catalog.format('demo-%s-%s', p_seed, v_n),
                'name', pg_catalog.format('Savanna Field Services Ltd (demo, seed %s)', p_seed),
                'timezone', c_tz, 'currency', 'KES', 'work_order_prefix', 'WO'));
            EXIT;
        EXCEPTION WHEN unique_violation THEN
            v_n := v_n + 1;         -- a concurrent call took that code
        END;
    END LOOP;

    -- Head office > regions > city branches (branch index 1 NBO, 2 MSA, 3 KSM).
    v_hq := @extschema@.create_branch(v_tenant, pg_catalog.jsonb_build_object(
        'code', 'HQ', 'name', 'Head office', 'address', 'Hospital Road, Upper Hill, Nairobi',
        'location', pg_catalog.jsonb_build_object('lat', -1.2990, 'lon', 36.8140)));
    FOR v_city IN SELECT * FROM pg_catalog.jsonb_to_recordset(c_cities)
                    AS c(ord integer, code text, name text, lat numeric, lon numeric, address text,
                         city text, county text, region_code text, region_name text, dispatcher text, manager text)
                   ORDER BY c.ord LOOP
        v_region := @extschema@.create_branch(v_tenant, pg_catalog.jsonb_build_object(
            'code', v_city.region_code, 'name', v_city.region_name, 'parent_branch_id', v_hq));
        v_branch_id := pg_catalog.array_append(v_branch_id, @extschema@.create_branch(v_tenant,
            pg_catalog.jsonb_build_object(
                'code', v_city.code, 'name', v_city.name, 'parent_branch_id', v_region, 'address', v_city.address,
                'location', pg_catalog.jsonb_build_object('lat', v_city.lat, 'lon', v_city.lon))));
        v_dispatcher := pg_catalog.array_append(v_dispatcher, v_city.dispatcher);
        v_manager := pg_catalog.array_append(v_manager, v_city.manager);
        v_city_name := pg_catalog.array_append(v_city_name, v_city.city);
        v_county := pg_catalog.array_append(v_county, v_city.county);
        -- the branch's shifts, in its time zone: most technicians work days
        -- (Monday to Friday, Saturday mornings), some the late shift
        v_cal_day := pg_catalog.array_append(v_cal_day, @extschema@.create_calendar(v_tenant, v_city.city || ' day shift', c_tz,
            '{"mon": [["08:00", "17:00"]], "tue": [["08:00", "17:00"]], "wed": [["08:00", "17:00"]],
              "thu": [["08:00", "17:00"]], "fri": [["08:00", "17:00"]], "sat": [["08:00", "13:00"]]}'));
        v_cal_late := pg_catalog.array_append(v_cal_late, @extschema@.create_calendar(v_tenant, v_city.city || ' late shift', c_tz,
            '{"mon": [["11:00", "20:00"]], "tue": [["11:00", "20:00"]], "wed": [["11:00", "20:00"]],
              "thu": [["11:00", "20:00"]], "fri": [["11:00", "20:00"]], "sat": [["11:00", "20:00"]]}'));
    END LOOP;

    -- The areas of each city, branch by branch.
    SELECT pg_catalog.array_agg(a.name ORDER BY c.ord, a.ord), pg_catalog.array_agg(a.road ORDER BY c.ord, a.ord),
           pg_catalog.array_agg(a.lat ORDER BY c.ord, a.ord), pg_catalog.array_agg(a.lon ORDER BY c.ord, a.ord),
           pg_catalog.array_agg(a.spread ORDER BY c.ord, a.ord)
      INTO v_area_name, v_area_road, v_area_lat, v_area_lon, v_area_spread
      FROM ROWS FROM (pg_catalog.jsonb_to_recordset(c_areas)
                      AS (branch text, name text, lat float8, lon float8, road text, spread float8))
           WITH ORDINALITY AS a(branch, name, lat, lon, road, spread, ord)
      JOIN pg_catalog.jsonb_to_recordset(c_cities) AS c(ord integer, code text) ON c.code = a.branch;
    SELECT pg_catalog.array_agg(x.first ORDER BY x.ord), pg_catalog.array_agg(x.n ORDER BY x.ord)
      INTO v_branch_area1, v_branch_areas
      FROM (SELECT c.ord, pg_catalog.count(*)::integer AS n,
                   (pg_catalog.sum(pg_catalog.count(*)) OVER (ORDER BY c.ord) - pg_catalog.count(*) + 1)::integer AS first
              FROM pg_catalog.jsonb_to_recordset(c_areas) AS a(branch text)
              JOIN pg_catalog.jsonb_to_recordset(c_cities) AS c(ord integer, code text) ON c.code = a.branch
             GROUP BY c.ord) x;

    -- Skills and the work-order types that require them.
    INSERT INTO @extschema@.skill (tenant_id, code, name)
    SELECT v_tenant, s.code, s.name
      FROM ROWS FROM (pg_catalog.jsonb_to_recordset(c_skills) AS (code text, name text))
           WITH ORDINALITY AS s(code, name, ord)
     ORDER BY s.ord;
    FOR v_type IN SELECT x.t FROM pg_catalog.jsonb_array_elements(c_types) WITH ORDINALITY AS x(t, ord) ORDER BY x.ord LOOP
        PERFORM @extschema@.create_work_order_type(v_tenant, v_type);
    END LOOP;
    SELECT pg_catalog.array_agg(t.code ORDER BY t.code), pg_catalog.array_agg(t.work_order_type_id ORDER BY t.code),
           pg_catalog.array_agg(t.estimated_duration ORDER BY t.code), pg_catalog.array_agg(p.code ORDER BY t.code)
      INTO v_type_code, v_type_id, v_type_duration, v_type_priority
      FROM @extschema@.work_order_type t
      JOIN @extschema@.priority p ON p.tenant_id = t.tenant_id AND p.priority_id = t.default_priority_id
     WHERE t.tenant_id = v_tenant;
    SELECT pg_catalog.array_agg(p.code ORDER BY p.rank), pg_catalog.array_agg(p.priority_id ORDER BY p.rank)
      INTO v_priority_code, v_priority_id
      FROM @extschema@.priority p WHERE p.tenant_id = v_tenant;

    -- Technicians: half in Nairobi, 30% in Mombasa, 20% in Kisumu, living in
    -- an area of their city; one in five works the late shift; most have a
    -- customer rating (2.5 to 5 stars, mostly 4 and up).
    INSERT INTO @extschema@.technician (tenant_id, employee_code, name, phone, email, home_branch_id,
                                        home_location, active, calendar_id, rating, created_at, updated_at)
    SELECT v_tenant, t.code, t.first_name || ' ' || t.last_name,
           '+2547' || pg_catalog.lpad((t.h_phone % 100000000)::text, 8, '0'),
           pg_catalog.lower(t.first_name || '.' || t.last_name) || t.i::text || '@savanna-fs.example',
           v_branch_id[t.bi],
           @extschema@._point(v_area_lat[t.ai] + v_area_spread[t.ai] * (t.h_lat / 1073741824.0 - 1.0),
                              v_area_lon[t.ai] + v_area_spread[t.ai] * (t.h_lon / 1073741824.0 - 1.0)),
           t.h_active % 30 <> 0,
           CASE WHEN t.h_shift % 5 = 0 THEN v_cal_late[t.bi] ELSE v_cal_day[t.bi] END,
           CASE WHEN t.h_rating % 100 < 85
                THEN pg_catalog.round((2.5 + 2.5 * pg_catalog.power((t.h_rating / 100) % 1000 / 999.0, 0.6))::numeric, 1) END,
           t.hired, t.hired
      FROM (SELECT x.*, v_branch_area1[x.bi] + (x.h_area % v_branch_areas[x.bi])::integer AS ai
              FROM (SELECT g.i, pg_catalog.format('T%s', pg_catalog.lpad(g.i::text, 5, '0')) AS code,
                           CASE WHEN g.i % 10 < 5 THEN 1 WHEN g.i % 10 < 8 THEN 2 ELSE 3 END AS bi,
                           c_first[1 + (pg_catalog.hashint8extended(g.i, v_seed + 1) & 2147483647) % pg_catalog.array_length(c_first, 1)] AS first_name,
                           c_last[1 + (pg_catalog.hashint8extended(g.i, v_seed + 2) & 2147483647) % pg_catalog.array_length(c_last, 1)] AS last_name,
                           pg_catalog.hashint8extended(g.i, v_seed + 3) & 2147483647 AS h_phone,
                           pg_catalog.hashint8extended(g.i, v_seed + 4) & 2147483647 AS h_area,
                           pg_catalog.hashint8extended(g.i, v_seed + 5) & 2147483647 AS h_lon,
                           pg_catalog.hashint8extended(g.i, v_seed + 6) & 2147483647 AS h_lat,
                           pg_catalog.hashint8extended(g.i, v_seed + 7) & 2147483647 AS h_active,
                           pg_catalog.hashint8extended(g.i, v_seed + 70) & 2147483647 AS h_shift,
                           pg_catalog.hashint8extended(g.i, v_seed + 71) & 2147483647 AS h_rating,
                           ((v_today - 30 - ((pg_catalog.hashint8extended(g.i, v_seed + 8) & 2147483647) % 2500)::integer)
                            + time '08:00' + pg_catalog.make_interval(mins => ((pg_catalog.hashint8extended(g.i, v_seed + 8) & 2147483647)
                                                                    / 2500 % 540)::integer)) AT TIME ZONE c_tz AS hired
                      FROM pg_catalog.generate_series(1, v_technicians) AS g(i) OFFSET 0) x OFFSET 0) t
     ORDER BY t.i;
    -- identities are handed out in insert order: T00001 is the first id
    SELECT pg_catalog.array_agg(te.technician_id ORDER BY te.technician_id) INTO v_tech_id
      FROM @extschema@.technician te WHERE te.tenant_id = v_tenant;

    -- Their skills: a profile of 1-3 skills, the first one the strongest;
    -- certifications run out between three months ago and two years ahead.
    INSERT INTO @extschema@.technician_skill (tenant_id, technician_id, skill_id, level, certified_until)
    SELECT v_tenant, t.technician_id, s.skill_id,
           CASE p.slot WHEN 1 THEN 2 + p.h_level % 4 WHEN 2 THEN 2 + p.h_level % 3 ELSE 1 + p.h_level % 3 END,
           CASE WHEN s.certified THEN v_today + (p.h_cert % 900)::integer - 90 END
      FROM (SELECT te.technician_id, substring(te.employee_code FROM 2)::integer AS i,
                   pg_catalog.row_number() OVER (PARTITION BY te.home_branch_id ORDER BY te.employee_code) AS rank
              FROM @extschema@.technician te WHERE te.tenant_id = v_tenant) t
     CROSS JOIN LATERAL (
            SELECT x.skill, x.slot,
                   pg_catalog.hashint8extended(t.i * 4 + x.slot, v_seed + 9) & 2147483647 AS h_level,
                   pg_catalog.hashint8extended(t.i * 4 + x.slot, v_seed + 10) & 2147483647 AS h_cert
              FROM pg_catalog.unnest(pg_catalog.string_to_array(c_profiles[1 + (t.rank - 1) % pg_catalog.array_length(c_profiles, 1)], ','))
                   WITH ORDINALITY AS x(skill, slot)) p
      JOIN (SELECT sk.skill_id, sk.code, c.certified
              FROM @extschema@.skill sk
              JOIN pg_catalog.jsonb_to_recordset(c_skills) AS c(code text, certified boolean) ON c.code = sk.code
             WHERE sk.tenant_id = v_tenant) s ON s.code = p.skill
     ORDER BY t.i, p.slot;

    -- Who can do each type in each branch ("<branch index>:<type>"): the
    -- active technicians with every required skill at its level, else any
    -- with the skills, else anyone there.
    SELECT pg_catalog.jsonb_object_agg(x.key, x.crew)
      INTO v_crews
      FROM (SELECT y.key, pg_catalog.to_jsonb(coalesce(pg_catalog.array_agg(y.code ORDER BY y.code) FILTER (WHERE y.able AND y.active),
                                            pg_catalog.array_agg(y.code ORDER BY y.code) FILTER (WHERE y.able),
                                            pg_catalog.array_agg(y.code ORDER BY y.code))) AS crew
              FROM (SELECT pg_catalog.array_position(v_branch_id, te.home_branch_id)::text || ':' || t.code AS key,
                           te.employee_code AS code, te.active,
                           pg_catalog.bool_and(r.skill_id IS NULL OR coalesce(ts.level, 0) >= r.min_level) AS able
                      FROM @extschema@.technician te
                     CROSS JOIN @extschema@.work_order_type t
                      LEFT JOIN @extschema@.work_order_type_skill r
                             ON r.tenant_id = t.tenant_id AND r.work_order_type_id = t.work_order_type_id
                      LEFT JOIN @extschema@.technician_skill ts
                             ON ts.tenant_id = te.tenant_id AND ts.technician_id = te.technician_id
                            AND ts.skill_id = r.skill_id
                     WHERE te.tenant_id = v_tenant AND t.tenant_id = v_tenant
                     GROUP BY te.home_branch_id, t.code, te.employee_code, te.active) y
             GROUP BY y.key) x;

    -- Customers, decided before they are written: 40% businesses; 55% in
    -- Nairobi, 28% in Mombasa, 17% in Kisumu; one or two sites each
    -- (businesses more often two).  account_code C0000001.. is the ordinal.
    SELECT pg_catalog.array_agg(x.business ORDER BY x.i), pg_catalog.array_agg(x.bi ORDER BY x.i),
           pg_catalog.array_agg(v_branch_area1[x.bi] + (x.h_area % v_branch_areas[x.bi])::integer ORDER BY x.i),
           pg_catalog.array_agg(x.since ORDER BY x.i), pg_catalog.array_agg(x.sites ORDER BY x.i), pg_catalog.array_agg(x.site1 ORDER BY x.i)
      INTO v_cust_business, v_cust_branch, v_cust_area, v_cust_since, v_cust_sites, v_cust_site1
      FROM (SELECT y.*, (pg_catalog.sum(y.sites) OVER (ORDER BY y.i) - y.sites + 1)::integer AS site1
              FROM (SELECT z.*,
                           CASE WHEN z.h_sites % 100 < CASE WHEN z.business THEN 45 ELSE 15 END THEN 2 ELSE 1 END AS sites
                      FROM (SELECT g.i,
                                   (pg_catalog.hashint8extended(g.i, v_seed + 11) & 2147483647) % 100 < 40 AS business,
                                   CASE WHEN (pg_catalog.hashint8extended(g.i, v_seed + 12) & 2147483647) % 100 < 55 THEN 1
                                        WHEN (pg_catalog.hashint8extended(g.i, v_seed + 12) & 2147483647) % 100 < 83 THEN 2
                                        ELSE 3 END AS bi,
                                   pg_catalog.hashint8extended(g.i, v_seed + 13) & 2147483647 AS h_area,
                                   pg_catalog.hashint8extended(g.i, v_seed + 14) & 2147483647 AS h_sites,
                                   ((v_today - 125 - ((pg_catalog.hashint8extended(g.i, v_seed + 15) & 2147483647) % 1500)::integer)
                                    + time '08:00' + pg_catalog.make_interval(mins => ((pg_catalog.hashint8extended(g.i, v_seed + 15) & 2147483647)
                                                                            / 1500 % 540)::integer)) AT TIME ZONE c_tz AS since
                              FROM pg_catalog.generate_series(1, v_customers) AS g(i)) z) y) x;

    INSERT INTO @extschema@.customer (tenant_id, account_code, name, kind, tax_pin, phone, email, branch_id,
                                      created_at, updated_at)
    SELECT v_tenant, 'C' || pg_catalog.lpad(c.i::text, 7, '0'),
           CASE WHEN v_cust_business[c.i]
                THEN pg_catalog.format('%s %s %s%s', c.word, c.trade, v_area_name[v_cust_area[c.i]],
                            CASE WHEN c.h_misc % 5 < 3 THEN ' Ltd' ELSE '' END)
                ELSE c.first_name || ' ' || c.last_name END,
           CASE WHEN v_cust_business[c.i] THEN 'business' ELSE 'individual' END,
           CASE WHEN v_cust_business[c.i]
                THEN pg_catalog.format('P%s%s', pg_catalog.lpad((c.h_phone % 1000000000)::text, 9, '0'), pg_catalog.chr(65 + (c.h_misc % 26)::integer)) END,
           '+2547' || pg_catalog.lpad((c.h_phone % 100000000)::text, 8, '0'),
           CASE WHEN v_cust_business[c.i]
                THEN 'info@' || pg_catalog.lower(pg_catalog.replace(c.word || '-' || c.trade, ' ', '-')) || '.example'
                WHEN c.h_misc % 3 > 0
                THEN pg_catalog.lower(c.first_name || '.' || c.last_name) || (c.h_misc % 100)::text || '@mail.example' END,
           v_branch_id[v_cust_branch[c.i]],
           v_cust_since[c.i], v_cust_since[c.i]
      FROM (SELECT g.i,
                   c_business_words[1 + (pg_catalog.hashint8extended(g.i, v_seed + 16) & 2147483647) % pg_catalog.array_length(c_business_words, 1)] AS word,
                   c_business_kinds[1 + (pg_catalog.hashint8extended(g.i, v_seed + 17) & 2147483647) % pg_catalog.array_length(c_business_kinds, 1)] AS trade,
                   c_first[1 + (pg_catalog.hashint8extended(g.i, v_seed + 16) & 2147483647) % pg_catalog.array_length(c_first, 1)] AS first_name,
                   c_last[1 + (pg_catalog.hashint8extended(g.i, v_seed + 17) & 2147483647) % pg_catalog.array_length(c_last, 1)] AS last_name,
                   pg_catalog.hashint8extended(g.i, v_seed + 18) & 2147483647 AS h_phone,
                   pg_catalog.hashint8extended(g.i, v_seed + 19) & 2147483647 AS h_misc
              FROM pg_catalog.generate_series(1, v_customers) AS g(i) OFFSET 0) c
     ORDER BY c.i;
    -- identities are handed out in insert order, so ordinal i is the i-th id
    SELECT pg_catalog.array_agg(c.customer_id ORDER BY c.customer_id) INTO v_cust_id
      FROM @extschema@.customer c WHERE c.tenant_id = v_tenant;

    -- A primary contact for every business.
    INSERT INTO @extschema@.contact (tenant_id, customer_id, name, role, phone, is_primary, created_at)
    SELECT v_tenant, v_cust_id[g.i],
           c_first[1 + (pg_catalog.hashint8extended(g.i, v_seed + 20) & 2147483647) % pg_catalog.array_length(c_first, 1)] || ' '
           || c_last[1 + (pg_catalog.hashint8extended(g.i, v_seed + 21) & 2147483647) % pg_catalog.array_length(c_last, 1)],
           c_contact_roles[1 + (pg_catalog.hashint8extended(g.i, v_seed + 22) & 2147483647) % pg_catalog.array_length(c_contact_roles, 1)],
           '+2547' || pg_catalog.lpad(((pg_catalog.hashint8extended(g.i, v_seed + 23) & 2147483647) % 100000000)::text, 8, '0'),
           true, v_cust_since[g.i]
      FROM pg_catalog.generate_series(1, v_customers) AS g(i)
     WHERE v_cust_business[g.i]
     ORDER BY g.i;

    -- Preferred technicians: about one customer in four (businesses more
    -- often) asked for a technician of their branch, some businesses for two.
    INSERT INTO @extschema@.preferred_technician (tenant_id, customer_id, technician_id, created_at)
    SELECT DISTINCT ON (p.ci, p.tech) v_tenant, v_cust_id[p.ci], p.tech,
           greatest(v_cust_since[p.ci], te.created_at) + pg_catalog.make_interval(days => 1 + (p.h / 1000 % 20)::integer)
      FROM (SELECT c.i AS ci, c.h, t.ids[1 + ((c.h / 100 + n.n * 7919) % pg_catalog.cardinality(t.ids))::integer] AS tech
              FROM (SELECT g.i, pg_catalog.hashint8extended(g.i, v_seed + 72) & 2147483647 AS h
                      FROM pg_catalog.generate_series(1, v_customers) AS g(i)) c
              JOIN (SELECT te.home_branch_id, pg_catalog.array_agg(te.technician_id ORDER BY te.technician_id) AS ids
                      FROM @extschema@.technician te WHERE te.tenant_id = v_tenant AND te.active
                     GROUP BY te.home_branch_id) t ON t.home_branch_id = v_branch_id[v_cust_branch[c.i]]
             CROSS JOIN LATERAL pg_catalog.generate_series(1, CASE WHEN v_cust_business[c.i] AND c.h % 100 < 12 THEN 2 ELSE 1 END) AS n(n)
             WHERE c.h % 100 < CASE WHEN v_cust_business[c.i] THEN 35 ELSE 18 END) p
      JOIN @extschema@.technician te ON te.tenant_id = v_tenant AND te.technician_id = p.tech
     ORDER BY p.ci, p.tech;

    -- Sites (ordinal s, customer by customer), decided first: how many
    -- assets each has (none to three, businesses more).
    v_sites := v_cust_site1[v_customers] + v_cust_sites[v_customers] - 1;
    SELECT pg_catalog.array_agg(x.i ORDER BY x.s), pg_catalog.array_agg(x.assets ORDER BY x.s),
           pg_catalog.array_agg(x.asset1 ORDER BY x.s)
      INTO v_site_cust, v_site_assets, v_site_asset1
      FROM (SELECT y.*, (pg_catalog.sum(y.assets) OVER (ORDER BY y.s) - y.assets + 1)::integer AS asset1
              FROM (SELECT c.i, v_cust_site1[c.i] + n.slot - 1 AS s,
                           (CASE WHEN v_cust_business[c.i] THEN ARRAY[0, 0, 0, 0, 1, 1, 1, 2, 2, 3]
                                 ELSE ARRAY[0, 0, 0, 0, 0, 0, 1, 1, 1, 2] END)
                           [1 + (pg_catalog.hashint8extended(v_cust_site1[c.i] + n.slot - 1, v_seed + 24) & 2147483647) % 10] AS assets
                      FROM pg_catalog.generate_series(1, v_customers) AS c(i)
                     CROSS JOIN LATERAL pg_catalog.generate_series(1, v_cust_sites[c.i]) AS n(slot)) y) x;

    -- The first site in the customer's own area, others anywhere in the
    -- city; spread around the area's centre.  Where each site stands is
    -- decided first: proof-of-completion photos are taken there.
    SELECT pg_catalog.array_agg(x.ai ORDER BY x.s),
           pg_catalog.array_agg(v_area_lat[x.ai] + v_area_spread[x.ai] * (x.h_lat / 1073741824.0 - 1.0) ORDER BY x.s),
           pg_catalog.array_agg(v_area_lon[x.ai] + v_area_spread[x.ai] * (x.h_lon / 1073741824.0 - 1.0) ORDER BY x.s)
      INTO v_site_area, v_site_lat, v_site_lon
      FROM (SELECT g.s,
                   CASE WHEN g.s = v_cust_site1[v_site_cust[g.s]] THEN v_cust_area[v_site_cust[g.s]]
                        ELSE v_branch_area1[v_cust_branch[v_site_cust[g.s]]]
                             + ((pg_catalog.hashint8extended(g.s, v_seed + 25) & 2147483647)
                                % v_branch_areas[v_cust_branch[v_site_cust[g.s]]])::integer END AS ai,
                   pg_catalog.hashint8extended(g.s, v_seed + 28) & 2147483647 AS h_lon,
                   pg_catalog.hashint8extended(g.s, v_seed + 29) & 2147483647 AS h_lat
              FROM pg_catalog.generate_series(1, v_sites) AS g(s) OFFSET 0) x;
    INSERT INTO @extschema@.site (tenant_id, customer_id, name, address, city, county, location, branch_id,
                                  access_notes, created_at, updated_at)
    SELECT v_tenant, v_cust_id[s.i],
           CASE WHEN v_cust_business[s.i]
                THEN (ARRAY['Main premises', 'Branch office', 'Warehouse', 'Outlet'])[CASE WHEN s.slot = 1 THEN 1 ELSE 2 + s.h_name % 3 END]
                ELSE (ARRAY['Home', 'Rental house', 'Family home', 'Parents'' home'])[CASE WHEN s.slot = 1 THEN 1 ELSE 2 + s.h_name % 3 END] END
           || ', ' || v_area_name[s.ai],
           pg_catalog.format('%s %s, %s, %s', CASE WHEN v_cust_business[s.i] THEN 'Plot' ELSE 'House' END,
                  1 + s.h_plot % 2400, v_area_road[s.ai], v_area_name[s.ai]),
           v_city_name[v_cust_branch[s.i]], v_county[v_cust_branch[s.i]],
           @extschema@._point(v_site_lat[s.s], v_site_lon[s.s]),
           v_branch_id[v_cust_branch[s.i]],
           CASE WHEN s.h_notes % 3 = 0 THEN c_access_notes[1 + (s.h_notes / 3) % pg_catalog.array_length(c_access_notes, 1)] END,
           v_cust_since[s.i], v_cust_since[s.i]
      FROM (SELECT x.*, x.s - v_cust_site1[x.i] + 1 AS slot, v_site_area[x.s] AS ai
              FROM (SELECT g.s, v_site_cust[g.s] AS i,
                           pg_catalog.hashint8extended(g.s, v_seed + 26) & 2147483647 AS h_name,
                           pg_catalog.hashint8extended(g.s, v_seed + 27) & 2147483647 AS h_plot,
                           pg_catalog.hashint8extended(g.s, v_seed + 30) & 2147483647 AS h_notes
                      FROM pg_catalog.generate_series(1, v_sites) AS g(s) OFFSET 0) x OFFSET 0) s
     ORDER BY s.s;
    SELECT pg_catalog.array_agg(s.site_id ORDER BY s.site_id) INTO v_site_id
      FROM @extschema@.site s WHERE s.tenant_id = v_tenant;

    -- Assets (ordinal a, site by site): the model of each, then the rows;
    -- serial numbers are unique per tenant (a bijection of the ordinal
    -- modulo 10^8).
    v_assets := v_site_asset1[v_sites] + v_site_assets[v_sites] - 1;
    SELECT pg_catalog.array_agg(((pg_catalog.hashint8extended(g.a, v_seed + 32) & 2147483647)
                      % pg_catalog.jsonb_array_length(c_asset_models))::integer ORDER BY g.a)
      INTO v_asset_model
      FROM pg_catalog.generate_series(1, v_assets) AS g(a);
    INSERT INTO @extschema@.asset (tenant_id, site_id, name, category, make, model, serial_number,
                                   installed_on, warranty, created_at)
    SELECT v_tenant, v_site_id[x.s], m ->> 'name', m ->> 'category', m ->> 'make', m ->> 'model',
           (m ->> 'prefix') || pg_catalog.lpad((((x.a::bigint * 48271 + p_seed::bigint * 7919) % 100000000 + 100000000) % 100000000)::text, 8, '0'),
           x.installed_on,
           CASE WHEN x.h_warranty % 7 <> 0
                THEN pg_catalog.daterange(x.installed_on, (x.installed_on + pg_catalog.make_interval(years => (m ->> 'warranty_years')::integer))::date) END,
           greatest(v_cust_since[v_site_cust[x.s]], (x.installed_on + time '10:00') AT TIME ZONE c_tz)
      FROM (SELECT g.s, v_site_asset1[g.s] + n.aslot - 1 AS a,
                   v_today - 30 - ((pg_catalog.hashint8extended(v_site_asset1[g.s] + n.aslot - 1, v_seed + 31)
                                    & 2147483647) % 2500)::integer AS installed_on,
                   pg_catalog.hashint8extended(v_site_asset1[g.s] + n.aslot - 1, v_seed + 33) & 2147483647 AS h_warranty
              FROM pg_catalog.generate_series(1, v_sites) AS g(s)
             CROSS JOIN LATERAL pg_catalog.generate_series(1, v_site_assets[g.s]) AS n(aslot) OFFSET 0) x
     CROSS JOIN LATERAL (SELECT c_asset_models -> v_asset_model[x.a] AS m) m
     ORDER BY x.a;
    SELECT pg_catalog.array_agg(a.asset_id ORDER BY a.asset_id) INTO v_asset_id
      FROM @extschema@.asset a WHERE a.tenant_id = v_tenant;

    -- Pools of weighted choices for the work orders.
    SELECT pg_catalog.array_agg(v.code ORDER BY v.ord, n.n) INTO v_type_pool
      FROM (VALUES (1, 'electrical_fault', 14), (2, 'plumbing_repair', 14), (3, 'it_support', 9),
                   (4, 'appliance_repair', 8), (5, 'repair', 8), (6, 'solar_install', 6), (7, 'ac_install', 6),
                   (8, 'maintenance', 6), (9, 'network_install', 5), (10, 'inspection', 5),
                   (11, 'internet_outage', 5), (12, 'installation', 4)) AS v(ord, code, weight)
     CROSS JOIN LATERAL pg_catalog.generate_series(1, v.weight) AS n(n);
    SELECT pg_catalog.array_agg(v.code ORDER BY v.ord, n.n) INTO v_priority_pool
      FROM (VALUES (1, 'emergency', 1), (2, 'high', 4), (3, 'normal', 10), (4, 'low', 5)) AS v(ord, code, weight)
     CROSS JOIN LATERAL pg_catalog.generate_series(1, v.weight) AS n(n);
    SELECT pg_catalog.array_agg(v.code ORDER BY v.ord, n.n) INTO v_source_pool
      FROM (VALUES (1, 'manual', 30), (2, 'portal', 20), (3, 'whatsapp', 20), (4, 'email', 15), (5, 'api', 10))
           AS v(ord, code, weight)
     CROSS JOIN LATERAL pg_catalog.generate_series(1, v.weight) AS n(n);
    -- Status by age: last week's work is mostly open, last quarter's closed.
    -- Only statuses of the standard workflow.
    SELECT pg_catalog.array_agg(v.status ORDER BY v.ord, n.n) FILTER (WHERE v.pool = 'recent'),
           pg_catalog.array_agg(v.status ORDER BY v.ord, n.n) FILTER (WHERE v.pool = 'mid'),
           pg_catalog.array_agg(v.status ORDER BY v.ord, n.n) FILTER (WHERE v.pool = 'old')
      INTO v_status_recent, v_status_mid, v_status_old
      FROM (VALUES ('recent', 1, 'new', 20), ('recent', 2, 'scheduled', 20), ('recent', 3, 'en_route', 6),
                   ('recent', 4, 'in_progress', 14), ('recent', 5, 'waiting_parts', 5), ('recent', 6, 'waiting_customer', 3),
                   ('recent', 7, 'completed', 16), ('recent', 8, 'closed', 3), ('recent', 9, 'cancelled', 5),
                   ('mid', 1, 'new', 4), ('mid', 2, 'scheduled', 7), ('mid', 3, 'en_route', 2),
                   ('mid', 4, 'in_progress', 7), ('mid', 5, 'waiting_parts', 5), ('mid', 6, 'waiting_customer', 3),
                   ('mid', 7, 'completed', 30), ('mid', 8, 'closed', 30), ('mid', 9, 'cancelled', 7),
                   ('old', 1, 'new', 1), ('old', 2, 'scheduled', 2), ('old', 3, 'en_route', 1),
                   ('old', 4, 'in_progress', 2), ('old', 5, 'waiting_parts', 3), ('old', 6, 'waiting_customer', 1),
                   ('old', 7, 'completed', 10), ('old', 8, 'closed', 72), ('old', 9, 'cancelled', 8)) AS v(pool, ord, status, weight)
     CROSS JOIN LATERAL pg_catalog.generate_series(1, v.weight) AS n(n);

    -- The tenant's default workflow (the seeded "standard" one, which every
    -- type follows), the category of each of its statuses, and the approval
    -- step dear quotes need before work starts.
    SELECT w.workflow_id INTO v_workflow
      FROM @extschema@.workflow w WHERE w.tenant_id = v_tenant AND w.is_default;
    SELECT pg_catalog.array_agg(s.code ORDER BY s.position), pg_catalog.array_agg(s.category ORDER BY s.position)
      INTO v_status_code, v_status_cat
      FROM @extschema@.workflow_status s WHERE s.tenant_id = v_tenant AND s.workflow_id = v_workflow;
    SELECT a.approval_step_id, a.min_quoted_amount INTO v_large_quote, v_large_quote_min
      FROM @extschema@.approval_step a
     WHERE a.tenant_id = v_tenant AND a.workflow_id = v_workflow AND a.code = 'large_quote';
    v_seq_work_order := pg_catalog.pg_get_serial_sequence('@extschema@.work_order', 'work_order_id')::regclass;
    v_seq_assignment := pg_catalog.pg_get_serial_sequence('@extschema@.assignment', 'assignment_id')::regclass;
    v_seq_approval := pg_catalog.pg_get_serial_sequence('@extschema@.approval', 'approval_id')::regclass;
    v_seq_attachment := pg_catalog.pg_get_serial_sequence('@extschema@.attachment', 'attachment_id')::regclass;

    -- Who the morning queue can be for: the Nairobi customers in a shuffled
    -- order (each job is another customer's), and the types at least two
    -- active Nairobi technicians are certified for on the queue day.  Without
    -- either there is no queue and every work order is history.
    SELECT pg_catalog.array_agg(g.i ORDER BY pg_catalog.hashint8extended(g.i, v_seed + 80), g.i) INTO v_nbo_customers
      FROM pg_catalog.generate_series(1, v_customers) AS g(i) WHERE v_cust_branch[g.i] = 1;
    SELECT pg_catalog.array_agg(v.code ORDER BY v.ord, n.n) INTO v_queue_types
      FROM (VALUES (1, 'electrical_fault', 5), (2, 'plumbing_repair', 5), (3, 'ac_service', 3), (4, 'internet_outage', 3),
                   (5, 'appliance_repair', 3), (6, 'solar_service', 2), (7, 'it_support', 2), (8, 'generator_service', 1),
                   (9, 'water_pump_repair', 1)) AS v(ord, code, weight)
     CROSS JOIN LATERAL pg_catalog.generate_series(1, v.weight) AS n(n)
     WHERE (SELECT pg_catalog.count(*) FROM @extschema@.technician te
             WHERE te.tenant_id = v_tenant AND te.active AND te.home_branch_id = v_branch_id[1]
               AND NOT EXISTS (SELECT 1 FROM @extschema@.work_order_type t
                                 JOIN @extschema@.work_order_type_skill r
                                   ON r.tenant_id = t.tenant_id AND r.work_order_type_id = t.work_order_type_id
                                WHERE t.tenant_id = v_tenant AND t.code = v.code
                                  AND NOT EXISTS (SELECT 1 FROM @extschema@.technician_skill ts
                                                   WHERE ts.tenant_id = te.tenant_id AND ts.technician_id = te.technician_id
                                                     AND ts.skill_id = r.skill_id AND ts.level >= r.min_level
                                                     AND (ts.certified_until IS NULL OR ts.certified_until >= v_queue_day)))) >= 2;
    IF v_nbo_customers IS NULL OR v_queue_types IS NULL THEN
        v_queue := 0;
    END IF;

    -- Work orders, created over the last 120 days in business hours, and
    -- everything that happened to them, in one statement: the lead
    -- technician's assignment, approvals of dear quotes, the photos and
    -- signatures taken on completion, and the history of events.  Every
    -- history follows transitions of the standard workflow:
    --   new > scheduled [> en_route] > in_progress
    --       [> waiting_parts | waiting_customer > in_progress] > completed > closed
    -- with holds (waiting_*) and cancellations (from new or scheduled) noted.
    -- The work orders are inserted oldest first, so the trigger numbers them
    -- in creation order; every row takes its id from the identity sequence
    -- beforehand, so the rows that refer to it need no join back.  A row with
    -- a past created_at is an import: it gets no automatic "created" event
    -- (the events written here are its history) and no outbox rows.  OFFSET
    -- 0 keeps each step a projection of its own; inlined, every use of a
    -- column would repeat the whole expression behind it (t4 repeats t3
    -- repeats t2 ...).
    WITH g AS (
        SELECT g.i,
               1 + (pg_catalog.hashint8extended(g.i, v_seed + 40) & 2147483647) % 120 AS age,
               ((v_today - 1 - ((pg_catalog.hashint8extended(g.i, v_seed + 40) & 2147483647) % 120)::integer)
                + time '07:00'
                + pg_catalog.make_interval(secs => ((pg_catalog.hashint8extended(g.i, v_seed + 41) & 2147483647) % 39600)::float8))
                   AT TIME ZONE c_tz AS created_at,
               -- a few customers bring much of the work
               least(v_customers, 1 + pg_catalog.floor(v_customers * pg_catalog.power((pg_catalog.hashint8extended(g.i, v_seed + 42) & 2147483647)
                                                                / 2147483648.0, 1.6))::integer) AS ci,
               pg_catalog.hashint8extended(g.i, v_seed + 43) & 2147483647 AS h_site,
               pg_catalog.hashint8extended(g.i, v_seed + 44) & 2147483647 AS h_asset,
               pg_catalog.hashint8extended(g.i, v_seed + 45) & 2147483647 AS h_type,
               pg_catalog.hashint8extended(g.i, v_seed + 46) & 2147483647 AS h_priority,
               pg_catalog.hashint8extended(g.i, v_seed + 47) & 2147483647 AS h_source,
               pg_catalog.hashint8extended(g.i, v_seed + 48) & 2147483647 AS h_status,
               pg_catalog.hashint8extended(g.i, v_seed + 49) & 2147483647 AS h_window,
               pg_catalog.hashint8extended(g.i, v_seed + 50) & 2147483647 AS h_tech,
               pg_catalog.hashint8extended(g.i, v_seed + 51) & 2147483647 AS h_gap1,
               pg_catalog.hashint8extended(g.i, v_seed + 52) & 2147483647 AS h_gap2,
               pg_catalog.hashint8extended(g.i, v_seed + 53) & 2147483647 AS h_gap3,
               pg_catalog.hashint8extended(g.i, v_seed + 54) & 2147483647 AS h_gap4,
               pg_catalog.hashint8extended(g.i, v_seed + 55) & 2147483647 AS h_flow,
               pg_catalog.hashint8extended(g.i, v_seed + 56) & 2147483647 AS h_quote,
               pg_catalog.hashint8extended(g.i, v_seed + 57) & 2147483647 AS h_proof,
               pg_catalog.hashint8extended(g.i, v_seed + 58) & 2147483647 AS h_book
          FROM pg_catalog.generate_series(1, p_work_orders - v_queue) AS g(i)
         OFFSET 0
    ), w1 AS (
        -- the customer's branch, one of its sites, maybe an asset there
        SELECT w.*,
               CASE WHEN v_site_assets[w.si] > 0 AND w.h_asset % 10 < 6
                    THEN v_site_asset1[w.si] + ((w.h_asset / 10) % v_site_assets[w.si])::integer END AS ai
          FROM (SELECT g.*, v_cust_branch[g.ci] AS bi,
                       v_cust_site1[g.ci] + (g.h_site % v_cust_sites[g.ci])::integer AS si,
                       CASE WHEN g.age <= 7 THEN v_status_recent[1 + g.h_status % pg_catalog.array_length(v_status_recent, 1)]
                            WHEN g.age <= 30 THEN v_status_mid[1 + g.h_status % pg_catalog.array_length(v_status_mid, 1)]
                            ELSE v_status_old[1 + g.h_status % pg_catalog.array_length(v_status_old, 1)] END AS status
                  FROM g OFFSET 0) w
         OFFSET 0
    ), w2 AS (
        -- the type follows the equipment, else the usual mix
        SELECT w.*, pg_catalog.array_position(v_type_code, w.type) AS ti
          FROM (SELECT w.*,
                       CASE WHEN w.model IS NOT NULL
                            THEN (c_asset_types -> (w.model ->> 'category'))
                                 ->> (w.h_type % pg_catalog.jsonb_array_length(c_asset_types -> (w.model ->> 'category')))::integer
                            ELSE v_type_pool[1 + w.h_type % pg_catalog.array_length(v_type_pool, 1)] END AS type
                  FROM (SELECT w1.*, c_asset_models -> v_asset_model[w1.ai] AS model FROM w1 OFFSET 0) w
                OFFSET 0) w
         OFFSET 0
    ), w3 AS (
        -- priority, channel, the lead technician and the quoted price
        SELECT w.*, v_tech_id[substring(w.technician FROM 2)::integer] AS tech_id,
               CASE WHEN w.h_quote % 100 < (w.quote ->> 'pct')::integer
                    THEN pg_catalog.round(((w.quote ->> 'min')::numeric
                                           + ((w.quote ->> 'max')::numeric - (w.quote ->> 'min')::numeric)
                                             * w.q * w.q) / 500.0) * 500.0 END AS quoted_amount
          FROM (SELECT w2.*,
                       CASE WHEN w2.h_priority % 100 < 65 THEN v_type_priority[w2.ti]
                            ELSE v_priority_pool[1 + (w2.h_priority / 100) % pg_catalog.array_length(v_priority_pool, 1)] END AS priority,
                       CASE WHEN w2.type IN ('maintenance', 'generator_service', 'ac_service', 'solar_service', 'inspection')
                                 AND w2.h_source % 10 < 4 THEN 'pm'
                            ELSE v_source_pool[1 + (w2.h_source / 10) % pg_catalog.array_length(v_source_pool, 1)] END AS source,
                       (v_crews -> (w2.bi::text || ':' || w2.type))
                       ->> (w2.h_tech % pg_catalog.jsonb_array_length(v_crews -> (w2.bi::text || ':' || w2.type)))::integer AS technician,
                       coalesce(c_quotes -> w2.type, c_quotes -> 'other') AS quote,
                       ((w2.h_quote / 100) % 1000000) / 1000000.0 AS q
                  FROM w2 OFFSET 0) w
         OFFSET 0
    ), w4 AS (
        -- the requested window: business hours some hours after creation,
        -- sooner when urgent (emergencies at once); for work that has
        -- started, before now; work still new always has one (so only the
        -- morning queue below is planned for the Nairobi queue day)
        SELECT w.*,
               CASE WHEN w.priority = 'emergency' THEN pg_catalog.date_trunc('hour', w.created_at) + interval '1 hour'
                    WHEN (w.target::date + w.slot) AT TIME ZONE c_tz > w.created_at + interval '1 hour'
                    THEN (w.target::date + w.slot) AT TIME ZONE c_tz
                    ELSE (w.target::date + 1 + w.slot) AT TIME ZONE c_tz END AS window_start,
               pg_catalog.make_interval(hours => CASE WHEN w.priority = 'emergency' THEN 4
                                           ELSE 2 + ((w.h_window / 1000) % 3)::integer END) AS window_length
          FROM (SELECT w3.*,
                       (w3.created_at + pg_catalog.make_interval(hours => CASE
                           WHEN w3.status IN ('en_route', 'in_progress', 'waiting_parts', 'waiting_customer', 'completed', 'closed')
                           THEN least(w3.lead, greatest(1, pg_catalog.floor(extract(epoch FROM v_now - w3.created_at) / 3600 * 0.4)::integer))
                           ELSE w3.lead END)) AT TIME ZONE c_tz AS target,
                       pg_catalog.make_interval(hours => (ARRAY[8, 8, 9, 10, 11, 13, 14, 15])[1 + (w3.h_window / 100000) % 8]) AS slot
                  FROM (SELECT w3.*, CASE w3.priority WHEN 'emergency' THEN 1
                                                      WHEN 'high' THEN 2 + w3.h_window % 23
                                                      WHEN 'normal' THEN 20 + w3.h_window % 77
                                                      ELSE 48 + w3.h_window % 121 END::integer AS lead
                          FROM w3 OFFSET 0) w3 OFFSET 0) w
         OFFSET 0
    ), f AS (
        -- the steps its history takes: scheduled (with a lead technician),
        -- en route (most technicians report travel), started, a hold that
        -- was resumed (some finished jobs), the proof taken on completion
        SELECT w.*,
               w.status <> 'new' AND NOT w.cancel_new AS f_sched,
               w.status = 'en_route' OR (w.f_started AND w.h_flow % 10 < 7) AS f_en,
               w.f_started AND w.status NOT IN ('waiting_parts', 'waiting_customer') AND (w.h_flow / 10) % 100 < 12 AS f_resumed,
               CASE WHEN w.status IN ('waiting_parts', 'waiting_customer') THEN w.status
                    WHEN (w.h_flow / 1000) % 10 < 7 THEN 'waiting_parts' ELSE 'waiting_customer' END AS hold_status,
               w.status IN ('completed', 'closed') AND w.h_proof % 100 < 65 AS f_proof,
               -- quotes from the threshold on need the manager's approval before work starts
               CASE WHEN w.quoted_amount >= v_large_quote_min
                    THEN CASE WHEN w.f_started THEN 'approved'
                              WHEN w.status IN ('scheduled', 'en_route')
                              THEN CASE WHEN (w.h_quote / 100000000) % 2 = 0 THEN 'approved' ELSE 'pending' END END END
                   AS approval_status
          FROM (SELECT w4.*,
                       w4.status = 'cancelled' AND w4.h_gap4 % 2 = 0 AS cancel_new,
                       w4.status IN ('in_progress', 'waiting_parts', 'waiting_customer', 'completed', 'closed') AS f_started,
                       -- new Nairobi work asking for the queue day asks for the day after
                       CASE WHEN w4.bi = 1 AND w4.status = 'new'
                                 AND pg_catalog.tstzrange(w4.window_start, w4.window_start + w4.window_length)
                                     OPERATOR(pg_catalog.&&) v_queue_range
                            THEN interval '24 hours' ELSE interval '0' END AS queue_shift
                  FROM w4 OFFSET 0) w
         OFFSET 0
    ), w5 AS (
        -- the history: each step comes after the one before, and before now
        -- (a step takes at most half the time left).  t1 scheduled, t2 work
        -- starts (at the window)
        SELECT w.*, pg_catalog.date_trunc('second', w.t1 + least(
                        pg_catalog.make_interval(mins => (greatest(0, extract(epoch FROM w.window_start - w.t1) / 60)
                                               + 5 + w.h_gap2 % 50)::integer),
                        (v_now - w.t1) / 2)) AS t2
          FROM (SELECT f.*, pg_catalog.date_trunc('second', f.created_at + least(pg_catalog.make_interval(mins => (5 + f.h_gap1 % 360)::integer),
                                                                      (v_now - f.created_at) / 2)) AS t1
                  FROM f OFFSET 0) w
         OFFSET 0
    ), w6 AS (
        -- t_en on the way (15-75 minutes before starting), th1 work stops
        -- for a hold, cancellations
        SELECT w5.*,
               pg_catalog.date_trunc('second', w5.t2 - least(pg_catalog.make_interval(mins => (15 + (w5.h_gap2 / 100) % 60)::integer),
                                                             (w5.t2 - w5.t1) / 2)) AS t_en,
               pg_catalog.date_trunc('second', w5.t2 + least(pg_catalog.make_interval(mins => (20 + w5.h_gap3 % 220)::integer),
                                                             (v_now - w5.t2) / 2)) AS th1,
               pg_catalog.date_trunc('second', w5.created_at + least(pg_catalog.make_interval(mins => (60 + w5.h_gap4 % 2800)::integer),
                                                                     (v_now - w5.created_at) / 2)) AS t_cancel_new,
               pg_catalog.date_trunc('second', w5.t1 + least(pg_catalog.make_interval(mins => (30 + w5.h_gap3 % 2800)::integer),
                                                             (v_now - w5.t1) / 2)) AS t_cancel_sched
          FROM w5
         OFFSET 0
    ), w7 AS (
        -- th2 work resumes after the hold (the next day or two), t3 completion
        SELECT w.*, pg_catalog.date_trunc('second', w.ts + least(v_type_duration[w.ti] * (0.6 + (w.h_gap3 % 1000) / 833.0),
                                                                 (v_now - w.ts) / 2)) AS t3
          FROM (SELECT w.*, CASE WHEN w.f_resumed THEN w.th2 ELSE w.t2 END AS ts
                  FROM (SELECT w6.*, pg_catalog.date_trunc('second', w6.th1 + least(
                                         pg_catalog.make_interval(hours => (18 + (w6.h_flow / 10000) % 40)::integer),
                                         (v_now - w6.th1) / 2)) AS th2
                          FROM w6 OFFSET 0) w OFFSET 0) w
         OFFSET 0
    ), w8 AS (
        SELECT w7.*, pg_catalog.date_trunc('second', w7.t3 + least(
                        -- the office closes work in office hours, 1-6 days after completion
                        ((w7.t3 AT TIME ZONE c_tz)::date + 1 + (w7.h_gap4 % 6)::integer + time '08:30'
                         + pg_catalog.make_interval(mins => ((w7.h_gap4 / 6) % 540)::integer)) AT TIME ZONE c_tz - w7.t3,
                        (v_now - w7.t3) / 2)) AS t4,
               -- before the status history's own steps: the quote (while new),
               -- the lead's assignment (just before scheduling), the approval
               -- (asked after scheduling, granted before travel), the resolution
               -- (just before completion)
               pg_catalog.date_trunc('second', w7.created_at + (least(w7.t1, w7.t_cancel_new) - w7.created_at) / 2) AS t_quote,
               pg_catalog.date_trunc('second', w7.t1 - least(pg_catalog.make_interval(mins => (2 + w7.h_book % 40)::integer),
                                                             (w7.t1 - w7.created_at) / 3)) AS t_assign,
               pg_catalog.date_trunc('second', w7.t1 + w7.asked) AS t_approval_asked,
               pg_catalog.date_trunc('second', w7.t1 + w7.asked + least(pg_catalog.make_interval(mins => (20 + (w7.h_book / 100) % 160)::integer),
                                                                        (w7.t2 - w7.t1) / 4)) AS t_approval_decided,
               pg_catalog.date_trunc('second', w7.ts + (w7.t3 - w7.ts) * 0.92) AS t_resolution
          FROM (SELECT w7.*, least(pg_catalog.make_interval(mins => (10 + (w7.h_book / 10000) % 50)::integer),
                                   (w7.t2 - w7.t1) * 0.15) AS asked
                  FROM w7 OFFSET 0) w7
         OFFSET 0
    ), d AS (
        SELECT w.*,
               pg_catalog.row_number() OVER (ORDER BY w.created_at, w.i) AS ord,
               CASE w.source WHEN 'manual' THEN v_dispatcher[w.bi]
                             WHEN 'portal' THEN 'portal:C' || pg_catalog.lpad(w.ci::text, 7, '0')
                             WHEN 'whatsapp' THEN 'whatsapp-bot'
                             WHEN 'email' THEN 'email-intake'
                             WHEN 'api' THEN 'erp-api'
                             ELSE 'pm-scheduler' END AS created_by,
               -- the statuses it went through and when (same steps in both)
               pg_catalog.array_remove(ARRAY[
                   'new',
                   CASE WHEN w.f_sched THEN 'scheduled' END,
                   CASE WHEN w.f_en THEN 'en_route' END,
                   CASE WHEN w.f_started THEN 'in_progress' END,
                   CASE WHEN w.f_resumed OR w.status IN ('waiting_parts', 'waiting_customer') THEN w.hold_status END,
                   CASE WHEN w.f_resumed THEN 'in_progress' END,
                   CASE WHEN w.status IN ('completed', 'closed') THEN 'completed' END,
                   CASE WHEN w.status = 'closed' THEN 'closed' END,
                   CASE WHEN w.status = 'cancelled' THEN 'cancelled' END], NULL) AS path,
               pg_catalog.array_remove(ARRAY[
                   w.created_at,
                   CASE WHEN w.f_sched THEN w.t1 END,
                   CASE WHEN w.f_en THEN w.t_en END,
                   CASE WHEN w.f_started THEN w.t2 END,
                   CASE WHEN w.f_resumed OR w.status IN ('waiting_parts', 'waiting_customer') THEN w.th1 END,
                   CASE WHEN w.f_resumed THEN w.th2 END,
                   CASE WHEN w.status IN ('completed', 'closed') THEN w.t3 END,
                   CASE WHEN w.status = 'closed' THEN w.t4 END,
                   CASE WHEN w.cancel_new THEN w.t_cancel_new WHEN w.status = 'cancelled' THEN w.t_cancel_sched END], NULL) AS times,
               CASE WHEN w.f_sched AND w.h_book % 100 < 85
                    THEN pg_catalog.tstzrange(w.book_start, w.book_start + v_type_duration[w.ti]) END AS booked_wanted
          FROM (SELECT w8.*, greatest(w8.window_start, pg_catalog.date_trunc('hour', w8.t_assign) + interval '1 hour') AS book_start
                  FROM w8 OFFSET 0) w
         OFFSET 0
    ), wo AS MATERIALIZED (
        SELECT pg_catalog.nextval(v_seq_work_order) AS work_order_id,
               CASE WHEN d.f_sched THEN pg_catalog.nextval(v_seq_assignment) END AS assignment_id,
               CASE WHEN d.approval_status IS NOT NULL THEN pg_catalog.nextval(v_seq_approval) END AS approval_id,
               pg_catalog.array_length(d.path, 1) AS steps,
               d.*
          FROM (SELECT d0.*,
                       -- a technician is never booked twice at once: a wanted
                       -- booking that would overlap an earlier one is left out;
                       -- so is one on the Nairobi queue's day, which dispatch plans
                       CASE WHEN d0.bi = 1 AND d0.booked_wanted OPERATOR(pg_catalog.&&) v_queue_range THEN NULL
                            WHEN pg_catalog.lower(d0.booked_wanted) >= coalesce(pg_catalog.max(pg_catalog.upper(d0.booked_wanted))
                                     OVER (PARTITION BY d0.tech_id ORDER BY pg_catalog.lower(d0.booked_wanted), d0.ord
                                           ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), '-infinity')
                            THEN d0.booked_wanted END AS booked
                  FROM d d0 ORDER BY d0.ord) d
    ), att AS MATERIALIZED (
        -- proof of completion: an after-photo or two and the signature of
        -- whoever accepted the work, sometimes a before-photo, all with a GPS
        -- point within about 60 m of the site, taken before completion
        SELECT pg_catalog.nextval(v_seq_attachment) AS attachment_id, a.*,
               pg_catalog.date_trunc('second', a.captured_at + least(interval '3 minutes', (a.t3 - a.captured_at) / 4)) AS uploaded_at
          FROM (SELECT wo.ord, wo.i, wo.work_order_id, wo.si, wo.technician, wo.t3, k.n, k.kind,
                       pg_catalog.date_trunc('second', CASE k.kind
                           WHEN 'photo_before' THEN wo.t2 + (CASE WHEN wo.f_resumed THEN wo.th1 ELSE wo.t3 END - wo.t2) * 0.1
                           WHEN 'photo_after' THEN wo.ts + (wo.t3 - wo.ts) * (0.5 + 0.1 * k.n)
                           ELSE wo.ts + (wo.t3 - wo.ts) * 0.85 END) AS captured_at,
                       pg_catalog.hashint8extended(wo.i * 8 + k.n, v_seed + 60) & 2147483647 AS h_lat,
                       pg_catalog.hashint8extended(wo.i * 8 + k.n, v_seed + 61) & 2147483647 AS h_lon,
                       pg_catalog.hashint8extended(wo.i * 8 + k.n, v_seed + 62) & 2147483647 AS h_size
                  FROM wo
                 CROSS JOIN LATERAL (VALUES (1, 'photo_before'), (2, 'photo_after'), (3, 'photo_after'), (4, 'signature')) AS k(n, kind)
                 WHERE wo.f_proof
                   AND (k.n IN (2, 4) OR (k.n = 1 AND wo.h_proof / 100 % 3 = 0) OR (k.n = 3 AND wo.h_proof / 100 % 2 = 0))
                 ORDER BY wo.ord, k.n) a
    ), inserted AS (
        INSERT INTO @extschema@.work_order (work_order_id, tenant_id, branch_id, customer_id, site_id, asset_id,
                                            work_order_type_id, priority_id, workflow_id, status, category,
                                            status_changed_at, requested_window, description, restricted,
                                            quoted_amount, resolution, version, source, external_ref, created_by,
                                            created_at, updated_at)
        OVERRIDING SYSTEM VALUE
        SELECT wo.work_order_id, v_tenant, v_branch_id[wo.bi], v_cust_id[wo.ci], v_site_id[wo.si], v_asset_id[wo.ai],
               v_type_id[wo.ti], v_priority_id[pg_catalog.array_position(v_priority_code, wo.priority)],
               v_workflow, wo.status, v_status_cat[pg_catalog.array_position(v_status_code, wo.status)],
               wo.times[wo.steps],
               -- new Nairobi work asks for a day after the queue day, not for it
               pg_catalog.tstzrange(wo.window_start + wo.queue_shift, wo.window_start + wo.window_length + wo.queue_shift),
               ((c_descriptions -> wo.type) ->> ((wo.h_type / 100) % pg_catalog.jsonb_array_length(c_descriptions -> wo.type))::integer)
               || CASE WHEN wo.ai IS NOT NULL
                       THEN pg_catalog.format(' (%s %s)', wo.model ->> 'make', wo.model ->> 'model') ELSE '' END,
               (wo.h_tech / 1000) % 50 = 0,
               wo.quoted_amount,
               CASE WHEN wo.status IN ('completed', 'closed')
                    THEN (c_resolutions -> wo.type) ->> ((wo.h_proof / 1000) % pg_catalog.jsonb_array_length(c_resolutions -> wo.type))::integer END,
               -- every update counts: the status moves, the quote, the resolution
               wo.steps + CASE WHEN wo.quoted_amount IS NOT NULL THEN 1 ELSE 0 END
                        + CASE WHEN wo.status IN ('completed', 'closed') THEN 1 ELSE 0 END,
               wo.source,
               CASE wo.source WHEN 'api' THEN 'SO-' || pg_catalog.lpad(wo.i::text, 8, '0')
                              WHEN 'portal' THEN 'P' || (1000000 + wo.i)::text END,
               wo.created_by, wo.created_at,
               greatest(wo.times[wo.steps], CASE WHEN wo.quoted_amount IS NOT NULL THEN wo.t_quote END)
          FROM wo
         ORDER BY wo.ord
    ), assigned AS (
        INSERT INTO @extschema@.assignment (tenant_id, assignment_id, work_order_id, role, technician_id, booked,
                                            assigned_by, assigned_at)
        OVERRIDING SYSTEM VALUE
        SELECT v_tenant, wo.assignment_id, wo.work_order_id, 'lead', wo.tech_id, wo.booked, v_dispatcher[wo.bi], wo.t_assign
          FROM wo
         WHERE wo.assignment_id IS NOT NULL
         ORDER BY wo.ord
    ), approved AS (
        INSERT INTO @extschema@.approval (tenant_id, approval_id, work_order_id, approval_step_id, status,
                                          requested_by, requested_at, request_note, decided_by, decided_at, decision_reason)
        OVERRIDING SYSTEM VALUE
        SELECT v_tenant, wo.approval_id, wo.work_order_id, v_large_quote, wo.approval_status,
               v_dispatcher[wo.bi], wo.t_approval_asked,
               pg_catalog.format('Quoted KES %s', pg_catalog.to_char(wo.quoted_amount, 'FM999,999,990')),
               CASE WHEN wo.approval_status = 'approved' THEN v_manager[wo.bi] END,
               CASE WHEN wo.approval_status = 'approved' THEN wo.t_approval_decided END,
               CASE WHEN wo.approval_status = 'approved'
                    THEN c_approval_reasons[1 + (wo.h_quote / 1000) % pg_catalog.array_length(c_approval_reasons, 1)] END
          FROM wo
         WHERE wo.approval_id IS NOT NULL
         ORDER BY wo.ord
    ), attached AS (
        INSERT INTO @extschema@.attachment (tenant_id, attachment_id, work_order_id, kind, content_hash, size_bytes,
                                            mime_type, storage_uri, captured_at, location, signed_by, caption,
                                            uploaded_by, created_at)
        OVERRIDING SYSTEM VALUE
        SELECT v_tenant, att.attachment_id, att.work_order_id, att.kind,
               pg_catalog.sha256(pg_catalog.convert_to(pg_catalog.format('demo %s %s %s', p_seed, att.i, att.n), 'UTF8')),
               CASE WHEN att.kind = 'signature' THEN 8000 + att.h_size % 30000 ELSE 180000 + att.h_size % 3400000 END,
               CASE WHEN att.kind = 'signature' THEN 'image/png' ELSE 'image/jpeg' END,
               pg_catalog.format('s3://savanna-fs-media/demo-%s/%s/%s-%s.%s', p_seed, att.i, att.kind, att.n,
                                 CASE WHEN att.kind = 'signature' THEN 'png' ELSE 'jpg' END),
               att.captured_at,
               @extschema@._point(v_site_lat[att.si] + (att.h_lat / 2147483648.0 - 0.5) * 0.0008,
                                  v_site_lon[att.si] + (att.h_lon / 2147483648.0 - 0.5) * 0.0008),
               CASE WHEN att.kind = 'signature'
                    THEN c_first[1 + att.h_size % pg_catalog.array_length(c_first, 1)] || ' '
                         || c_last[1 + (att.h_size / 100) % pg_catalog.array_length(c_last, 1)] END,
               CASE att.kind WHEN 'photo_before' THEN 'Before starting' WHEN 'photo_after' THEN 'Work done' END,
               att.technician, att.uploaded_at
          FROM att
         ORDER BY att.attachment_id
    )
    INSERT INTO @extschema@.work_order_event (tenant_id, work_order_id, event_type, from_status, to_status,
                                              actor, db_role, client_ip, occurred_at, details)
    SELECT v_tenant, e.work_order_id, e.event_type, e.from_status, e.to_status, e.actor, current_user, NULL,
           e.occurred_at, e.details
      FROM (
        -- the status history, as womgr.transition() records it
        SELECT wo.ord, wo.work_order_id, wo.times[k.k] AS occurred_at,
               CASE WHEN k.k = 1 THEN 'created' ELSE 'status_changed' END AS event_type,
               wo.path[k.k - 1] AS from_status, wo.path[k.k] AS to_status,
               CASE WHEN k.k = 1 THEN wo.created_by
                    WHEN wo.path[k.k] IN ('en_route', 'in_progress', 'waiting_parts', 'waiting_customer', 'completed')
                    THEN wo.technician
                    ELSE v_dispatcher[wo.bi] END AS actor,
               CASE WHEN k.k = 1 THEN '{}'::jsonb
                    ELSE pg_catalog.jsonb_build_object(
                             'changed', CASE WHEN c.from_cat = c.to_cat THEN '["status", "status_changed_at"]'::jsonb
                                             ELSE '["status", "category", "status_changed_at"]'::jsonb END,
                             'from_category', c.from_cat, 'to_category', c.to_cat)
                         || CASE wo.path[k.k]
                                WHEN 'waiting_parts' THEN pg_catalog.jsonb_build_object('note',
                                    c_parts_reasons[1 + wo.h_gap3 % pg_catalog.array_length(c_parts_reasons, 1)])
                                WHEN 'waiting_customer' THEN pg_catalog.jsonb_build_object('note',
                                    c_customer_reasons[1 + wo.h_gap3 % pg_catalog.array_length(c_customer_reasons, 1)])
                                WHEN 'cancelled' THEN pg_catalog.jsonb_build_object('note',
                                    c_cancel_reasons[1 + wo.h_gap3 % pg_catalog.array_length(c_cancel_reasons, 1)])
                                ELSE '{}'::jsonb END END AS details
          FROM wo
         CROSS JOIN LATERAL pg_catalog.generate_subscripts(wo.path, 1) AS k(k)
         CROSS JOIN LATERAL (SELECT v_status_cat[pg_catalog.array_position(v_status_code, wo.path[k.k - 1])]::text AS from_cat,
                                    v_status_cat[pg_catalog.array_position(v_status_code, wo.path[k.k])]::text AS to_cat) c
        UNION ALL
        -- the dispatcher quotes the price while the job is new
        SELECT wo.ord, wo.work_order_id, wo.t_quote, 'updated', 'new', 'new', v_dispatcher[wo.bi],
               '{"changed": ["quoted_amount"]}'::jsonb
          FROM wo WHERE wo.quoted_amount IS NOT NULL
        UNION ALL
        SELECT wo.ord, wo.work_order_id, wo.t_assign, 'assigned', NULL, NULL, v_dispatcher[wo.bi],
               pg_catalog.jsonb_build_object('assignment_id', wo.assignment_id, 'role', 'lead',
                                             'technician_id', wo.tech_id, 'booked', wo.booked)
          FROM wo WHERE wo.assignment_id IS NOT NULL
        UNION ALL
        SELECT wo.ord, wo.work_order_id, wo.t_approval_asked, 'approval_requested', NULL, NULL, v_dispatcher[wo.bi],
               pg_catalog.jsonb_build_object('approval_id', wo.approval_id, 'step', 'large_quote',
                                             'approver_roles', '["manager"]'::jsonb,
                                             'note', pg_catalog.format('Quoted KES %s', pg_catalog.to_char(wo.quoted_amount, 'FM999,999,990')))
          FROM wo WHERE wo.approval_id IS NOT NULL
        UNION ALL
        SELECT wo.ord, wo.work_order_id, wo.t_approval_decided, 'approval_granted', NULL, NULL, v_manager[wo.bi],
               pg_catalog.jsonb_build_object('approval_id', wo.approval_id, 'step', 'large_quote',
                   'reason', c_approval_reasons[1 + (wo.h_quote / 1000) % pg_catalog.array_length(c_approval_reasons, 1)])
          FROM wo WHERE wo.approval_status = 'approved'
        UNION ALL
        SELECT att.ord, att.work_order_id, att.uploaded_at, 'attachment_added', NULL, NULL, att.technician,
               pg_catalog.jsonb_build_object('attachment_id', att.attachment_id, 'kind', att.kind,
                   'sha256', pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to(
                                 pg_catalog.format('demo %s %s %s', p_seed, att.i, att.n), 'UTF8')), 'hex'),
                   'has_location', true)
          FROM att
        UNION ALL
        -- the technician reports what was done just before completing
        SELECT wo.ord, wo.work_order_id, wo.t_resolution, 'updated', 'in_progress', 'in_progress', wo.technician,
               '{"changed": ["resolution"]}'::jsonb
          FROM wo WHERE wo.status IN ('completed', 'closed')) e
     ORDER BY e.ord, e.occurred_at;

    -- The morning queue: requests that came in yesterday evening (after the
    -- history, so they number after it) for the Nairobi branch's next
    -- working day, each with a requested window in that morning (08:00 to
    -- 13:00 local, long enough for the job and the drive), at Nairobi sites,
    -- of types at least two active Nairobi technicians are certified for.
    -- Nobody is assigned yet: womgr.plan_dispatch() plans them.
    IF v_queue > 0 THEN
        WITH q AS (
            SELECT x.*, v_cust_site1[x.ci] + (x.h_site % v_cust_sites[x.ci])::integer AS si,
                   pg_catalog.array_position(v_type_code, x.type) AS ti
              FROM (SELECT g.q, p_work_orders - v_queue + g.q AS i,
                           v_nbo_customers[1 + (g.q - 1) % pg_catalog.array_length(v_nbo_customers, 1)] AS ci,
                           v_queue_types[1 + (pg_catalog.hashint8extended(g.q, v_seed + 82) & 2147483647)
                                             % pg_catalog.array_length(v_queue_types, 1)] AS type,
                           pg_catalog.hashint8extended(g.q, v_seed + 81) & 2147483647 AS h_site,
                           pg_catalog.hashint8extended(g.q, v_seed + 83) & 2147483647 AS h_window,
                           pg_catalog.hashint8extended(g.q, v_seed + 84) & 2147483647 AS h_priority,
                           pg_catalog.hashint8extended(g.q, v_seed + 85) & 2147483647 AS h_source,
                           pg_catalog.hashint8extended(g.q, v_seed + 86) & 2147483647 AS h_time,
                           -- in the evening, one after another
                           ((v_today - 1) + time '18:00'
                            + pg_catalog.make_interval(mins => (g.q - 1) * 8,
                                                       secs => ((pg_catalog.hashint8extended(g.q, v_seed + 86) & 2147483647) % 470)::float8))
                               AT TIME ZONE c_tz AS created_at
                      FROM pg_catalog.generate_series(1, v_queue) AS g(q)) x
        ), q2 AS (
            -- the window: whole hours from 08:00, the job's length rounded up
            -- plus one to three hours, ending by 13:00
            SELECT q.*, least(5, h.job + 1 + (q.h_window % 3)::integer) AS len,
                   CASE WHEN q.h_priority % 100 < 75 THEN v_type_priority[q.ti]
                        WHEN q.h_priority % 100 < 90 THEN 'high' ELSE 'low' END AS priority,
                   (ARRAY['whatsapp', 'whatsapp', 'portal', 'portal', 'email', 'api'])[1 + q.h_source % 6] AS source
              FROM q
             CROSS JOIN LATERAL (SELECT pg_catalog.ceil(extract(epoch FROM v_type_duration[q.ti]) / 3600)::integer AS job) h
        ), q3 AS (
            SELECT q2.*,
                   (v_queue_day + pg_catalog.make_interval(hours => 8 + ((q2.h_window / 3) % (6 - q2.len))::integer))
                       AT TIME ZONE c_tz AS window_start
              FROM q2
        ), inserted AS (
            INSERT INTO @extschema@.work_order (tenant_id, branch_id, customer_id, site_id, work_order_type_id, priority_id,
                                                workflow_id, status, category, status_changed_at, requested_window,
                                                description, restricted, version, source, external_ref, created_by,
                                                created_at, updated_at)
            SELECT v_tenant, v_branch_id[1], v_cust_id[q3.ci], v_site_id[q3.si], v_type_id[q3.ti],
                   v_priority_id[pg_catalog.array_position(v_priority_code, q3.priority)], v_workflow, 'new',
                   v_status_cat[pg_catalog.array_position(v_status_code, 'new')], q3.created_at,
                   pg_catalog.tstzrange(q3.window_start, q3.window_start + pg_catalog.make_interval(hours => q3.len)),
                   (c_descriptions -> q3.type) ->> ((q3.h_time / 1000) % pg_catalog.jsonb_array_length(c_descriptions -> q3.type))::integer,
                   false, 1, q3.source,
                   CASE q3.source WHEN 'api' THEN 'SO-' || pg_catalog.lpad(q3.i::text, 8, '0')
                                  WHEN 'portal' THEN 'P' || (1000000 + q3.i)::text END,
                   CASE q3.source WHEN 'portal' THEN 'portal:C' || pg_catalog.lpad(q3.ci::text, 7, '0')
                                  WHEN 'whatsapp' THEN 'whatsapp-bot' WHEN 'email' THEN 'email-intake' ELSE 'erp-api' END,
                   q3.created_at, q3.created_at
              FROM q3
             ORDER BY q3.q
            RETURNING work_order_id, created_by, created_at
        )
        INSERT INTO @extschema@.work_order_event (tenant_id, work_order_id, event_type, from_status, to_status,
                                                  actor, db_role, client_ip, occurred_at, details)
        SELECT v_tenant, i.work_order_id, 'created', NULL, 'new', i.created_by, current_user, NULL, i.created_at, '{}'::jsonb
          FROM inserted i
         ORDER BY i.created_at;
    END IF;

    -- GPS pings: six Nairobi technicians are already out; their phones sent
    -- a fix every five minutes, the last two to five minutes ago, along
    -- their way through an area of the city.
    WITH t AS (
        SELECT te.technician_id, pg_catalog.hashint8extended(substring(te.employee_code FROM 2)::bigint, v_seed + 90) & 2147483647 AS h
          FROM @extschema@.technician te
         WHERE te.tenant_id = v_tenant AND te.active AND te.home_branch_id = v_branch_id[1]
         ORDER BY 2, te.technician_id
         LIMIT 6
    ), p AS (
        SELECT t.technician_id, n.n,
               v_area_lat[a.ai] + v_area_spread[a.ai] * ((t.h / 7 % 1000) / 500.0 - 1.0) - (2 - n.n) * 0.004 * (t.h / 11 % 3 - 1) AS lat,
               v_area_lon[a.ai] + v_area_spread[a.ai] * ((t.h / 13 % 1000) / 500.0 - 1.0) - (2 - n.n) * 0.004 * (t.h / 17 % 3 - 1) AS lon,
               pg_catalog.date_trunc('second', v_now - pg_catalog.make_interval(secs => ((2 - n.n) * 300 + 120 + (t.h / 19 + n.n) % 180)::float8)) AS at,
               (4 + (t.h / 23 + n.n * 7) % 20)::real AS accuracy
          FROM t
         CROSS JOIN LATERAL (SELECT v_branch_area1[1] + (t.h % v_branch_areas[1])::integer AS ai) a
         CROSS JOIN LATERAL pg_catalog.generate_series(0, 2) AS n(n)
    ), pinged AS (
        INSERT INTO @extschema@.technician_location (tenant_id, technician_id, recorded_at, location, accuracy_m, received_at)
        SELECT v_tenant, p.technician_id, p.at, @extschema@._point(p.lat, p.lon), p.accuracy,
               p.at + pg_catalog.make_interval(secs => (2 + p.n * 3)::float8)
          FROM p
         ORDER BY p.technician_id, p.at
    )
    UPDATE @extschema@.technician te
       SET last_location = @extschema@._point(p.lat, p.lon), last_location_at = p.at
      FROM p
     WHERE te.tenant_id = v_tenant AND te.technician_id = p.technician_id AND p.n = 2;

    RETURN v_tenant;
END
$$;
COMMENT ON FUNCTION @extschema@.demo_generate(integer, integer) IS
    'Creates a new demo tenant (code demo-<seed>-<n>) and returns its id: a Kenyan field-service company with a head office, three regions and branches in Nairobi (NBO), Mombasa (MSA) and Kisumu (KSM) at their real coordinates, seven skills, twelve work-order types with required skill levels, technicians (60, or one per 500 work orders) with skills and certifications, p_work_orders / 2.5 customers (at least 20) with sites and assets, and p_work_orders work orders. For dispatch: a day shift (Monday to Friday 08:00-17:00, Saturday 08:00-13:00) and a late shift (Monday to Saturday 11:00-20:00) calendar per branch, every technician on one of them (one in five on the late shift); ratings of 2.5 to 5 stars for most technicians; preferred technicians for about a quarter of the customers; GPS pings of the last quarter hour (three each, the last minutes old) for six Nairobi technicians, which are their positions; the seeded dispatch policy. Up to 24 of the work orders (p_work_orders / 10) are the Nairobi morning queue: new, unassigned requests that came in yesterday evening for the branch''s next working day (tomorrow in Africa/Nairobi, Monday when tomorrow is a Sunday), each with a requested window between 08:00 and 13:00 an hour or more longer than the job, at the sites of different Nairobi customers, of types at least two active Nairobi technicians are certified for; nothing else in Nairobi is booked on or asks for that day, so womgr.plan_dispatch() plans exactly the queue. The others are the history: every status of the standard workflow, created over the last 120 days; their histories follow the workflow''s transitions (holds and cancellations with their notes); every work order that was scheduled has a lead technician (never booked twice at once), quotes of KES 100,000 or more their approval, completed work a resolution and often after-photos and a signature taken at the site; work still new has a requested window. The same p_seed gives the same content (timestamps are relative to the current time, the queue to its day''s midnight); it does not call setseed() and leaves the caller''s settings alone.';
