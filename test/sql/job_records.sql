-- job_records: what gathers around a work order: assignments (lead,
-- backup, crew, departments), notes, attachments, service requests and
-- their conversion, and the outbox.
\set ECHO none
\i test/pgtap_setup.psql
CREATE EXTENSION IF NOT EXISTS womgr CASCADE;

BEGIN;
SELECT no_plan();

SELECT womgr.create_tenant('{"code": "jr-test", "name": "Maji Plumbing Ltd", "work_order_prefix": "MP"}') AS t \gset
SELECT womgr.create_branch(:t, '{"code": "MSA", "name": "Mombasa"}') AS msa \gset
SELECT womgr.create_customer(:t, jsonb_build_object('name', 'Nyali Apartments', 'branch_id', :msa)) AS c \gset
SELECT womgr.create_customer(:t, jsonb_build_object('name', 'Other Ltd', 'branch_id', :msa)) AS c_other \gset
SELECT womgr.create_site(:t, jsonb_build_object('customer_id', :c, 'name', 'Block A')) AS s \gset
SELECT womgr.create_contact(:t, jsonb_build_object('customer_id', :c, 'name', 'Fatma Ali', 'phone', '+254711000111')) AS ct \gset
SELECT womgr.create_technician(:t, jsonb_build_object('name', 'Hassan Said', 'home_branch_id', :msa, 'login', 'hassan')) AS h \gset
SELECT womgr.create_technician(:t, jsonb_build_object('name', 'Zawadi Mwende', 'home_branch_id', :msa, 'login', 'zawadi')) AS z \gset
SELECT womgr.create_technician(:t, jsonb_build_object('name', 'Juma Bakari', 'home_branch_id', :msa)) AS j \gset
SELECT womgr.create_technician(:t, jsonb_build_object('name', 'Retired Tech', 'home_branch_id', :msa, 'active', false)) AS old \gset
SELECT womgr.create_work_order(:t, jsonb_build_object('customer_id', :c, 'site_id', :s, 'type', 'repair',
                                                       'description', 'Burst pipe, 3rd floor', 'restricted', true)) AS w \gset
SELECT womgr.set_context(:t, 'salma.dispatch', NULL, 'dispatcher') \gset

-- technicians: login links a technician to the actor name they work under
SELECT is((SELECT login FROM womgr.technician WHERE tenant_id = :t AND technician_id = :h), 'hassan', 'a technician has a login');
SELECT throws_ok(format('SELECT womgr.create_technician(%s, %L)', :t, jsonb_build_object('name', 'X', 'home_branch_id', :msa, 'login', 'hassan')),
                 '23505', 'technician login "hassan" is already used', 'create_technician: duplicate login');
SELECT womgr.update_technician(:t, :j, '{"login": "juma"}') \gset
SELECT is((SELECT login FROM womgr.technician WHERE tenant_id = :t AND technician_id = :j), 'juma', 'update_technician sets the login');
SELECT throws_ok(format('SELECT womgr.update_technician(%s, %s, %L)', :t, :j, '{"login": "zawadi"}'), '23505', NULL,
                 'update_technician: login of another technician');

-- assignments: one lead, backups and crew, bookings, reassignment
SELECT womgr.assign(:t, :w, :h, 'lead', '2026-11-24 08:00+03', '2026-11-24 11:00+03') AS a_lead \gset
SELECT is(womgr.assign(:t, :w, :h, 'lead', '2026-11-24 08:00+03', '2026-11-24 11:00+03'), :a_lead::bigint,
          'the same assignment twice changes nothing');
SELECT is((SELECT booked FROM womgr.assignment WHERE tenant_id = :t AND assignment_id = :a_lead),
          tstzrange('2026-11-24 08:00+03', '2026-11-24 11:00+03'), 'the booking is stored as a range');
SELECT womgr.assign(:t, :w, :z, 'backup') AS a_backup \gset
SELECT womgr.assign(:t, :w, :j, 'crew') AS a_crew \gset
SELECT is((SELECT array_agg(role || ':' || technician_id ORDER BY role) FROM womgr.assignment WHERE tenant_id = :t AND work_order_id = :w AND ended_at IS NULL),
          ARRAY['backup:' || :z, 'crew:' || :j, 'lead:' || :h], 'a lead, a backup and a crew member');
SELECT womgr.assign(:t, :w, :z, 'lead') AS a_new_lead \gset
SELECT is((SELECT array_agg(role || ':' || technician_id ORDER BY role) FROM womgr.assignment WHERE tenant_id = :t AND work_order_id = :w AND ended_at IS NULL),
          ARRAY['crew:' || :j, 'lead:' || :z], 'a new lead replaces the old one, and the backup who became lead is no longer backup');
SELECT is((SELECT concat_ws('|', ended_by, end_reason) FROM womgr.assignment WHERE tenant_id = :t AND assignment_id = :a_lead),
          'salma.dispatch|reassigned', 'the old lead''s assignment ended, kept as history');
SELECT is((SELECT concat_ws('|', actor, details ->> 'from_technician_id', details ->> 'to_technician_id')
             FROM womgr.work_order_event WHERE tenant_id = :t AND work_order_id = :w AND event_type = 'reassigned'),
          concat_ws('|', 'salma.dispatch', :h, :z), 'reassignment is recorded as its own event');
SELECT is((SELECT count(*)::int FROM womgr.work_order_event WHERE tenant_id = :t AND work_order_id = :w AND event_type = 'assigned'), 3,
          'the first lead, the backup and the crew member were "assigned" events');
SELECT womgr.unassign(:t, :a_crew, 'needed elsewhere') \gset
SELECT is((SELECT concat_ws('|', event_type, details ->> 'reason') FROM womgr.work_order_event
            WHERE tenant_id = :t AND work_order_id = :w ORDER BY work_order_event_id DESC LIMIT 1),
          'unassigned|needed elsewhere', 'unassign ends the assignment with a reason');
SELECT throws_ok(format('SELECT womgr.unassign(%s, %s)', :t, :a_crew), '55000', NULL, 'unassign: already ended');
SELECT throws_ok(format('SELECT womgr.unassign(%s, 999999)', :t), 'P0002', 'assignment 999999 does not exist', 'unassign: unknown');
SELECT throws_ok(format('SELECT womgr.assign(%s, %s, %s, %L)', :t, :w, :j, 'helper'), '22023', 'assignment role "helper" is not known',
                 'assign: unknown role');
SELECT throws_ok(format('SELECT womgr.assign(%s, %s, NULL)', :t, :w), '22004', 'technician id must not be null', 'assign: null technician');
SELECT throws_ok(format('SELECT womgr.assign(%s, %s, 999999)', :t, :w), '23503', 'technician 999999 does not exist', 'assign: unknown technician');
SELECT throws_ok(format('SELECT womgr.assign(%s, %s, %s)', :t, :w, :old), '55000', NULL, 'assign: inactive technician');
SELECT throws_ok(format('SELECT womgr.assign(%s, %s, %s, %L, %L, NULL)', :t, :w, :j, 'crew', '2026-11-24 08:00+03'), '22004', NULL,
                 'assign: a booking without an end');
SELECT throws_ok(format('SELECT womgr.assign(%s, %s, %s, %L, %L, %L)', :t, :w, :j, 'crew', '2026-11-24 08:00+03', '2026-11-24 07:00+03'),
                 '22023', 'a booking must end after it starts', 'assign: a booking that ends before it starts');
SELECT throws_ok(format('SELECT womgr.assign(%s, 999999, %s)', :t, :j), 'P0002', 'work order 999999 does not exist', 'assign: unknown work order');
SELECT throws_ok(format('SELECT womgr.assign(NULL, %s, %s)', :w, :j), '22004', 'tenant must not be null', 'assign: null tenant');

-- departments and teams
SELECT womgr.create_department(:t, jsonb_build_object('code', 'plumbing', 'name', 'Plumbing crew', 'branch_id', :msa,
                                                       'members', jsonb_build_array(:h, :j))) AS d \gset
SELECT is((SELECT array_agg(technician_id ORDER BY technician_id) FROM womgr.department_member WHERE tenant_id = :t AND department_id = :d),
          ARRAY[:h, :j]::bigint[], 'a department has its members');
SELECT womgr.assign_department(:t, :w, 'plumbing') AS a_dept \gset
SELECT is(womgr.assign_department(:t, :w, 'plumbing'), :a_dept::bigint, 'assigning the department twice returns the same assignment');
SELECT is((SELECT concat_ws('|', role, department_id) FROM womgr.assignment WHERE tenant_id = :t AND assignment_id = :a_dept),
          concat_ws('|', 'department', :d), 'a department assignment');
SELECT throws_ok(format('SELECT womgr.assign_department(%s, %s, %L)', :t, :w, 'nope'), '23503', 'department "nope" does not exist',
                 'assign_department: unknown department');
SELECT throws_ok(format('SELECT womgr.create_department(%s, %L)', :t, '{"code": "plumbing", "name": "Again"}'), '23505', NULL,
                 'create_department: duplicate code');
SELECT throws_ok(format('SELECT womgr.create_department(%s, %L)', :t, '{"code": "x", "name": "X", "members": [999999]}'), '23503', NULL,
                 'create_department: unknown member');
SELECT throws_ok(format('SELECT womgr.create_department(%s, %L)', :t, '{"code": "x", "name": "X", "members": ["abc"]}'), '42804', NULL,
                 'create_department: member that is not an id');

-- restricted work orders: what the row-level rules will need is stored
SELECT is((SELECT array_agg(t.login ORDER BY t.login) FROM womgr.work_order w
             JOIN womgr.assignment a ON a.tenant_id = w.tenant_id AND a.work_order_id = w.work_order_id AND a.ended_at IS NULL
             JOIN womgr.technician t ON t.tenant_id = a.tenant_id AND t.technician_id = a.technician_id
            WHERE w.tenant_id = :t AND w.work_order_id = :w AND w.restricted),
          ARRAY['zawadi'], 'a restricted work order''s assigned people are known by login');

-- notes
SELECT womgr.set_context(:t, 'zawadi', NULL, 'technician') \gset
SELECT womgr.add_note(:t, :w, 'Valve seized. @salma.dispatch please order a 1" gate valve; cc @hassan.', 'internal', ARRAY['juma']) AS n1 \gset
SELECT is((SELECT concat_ws('|', visibility, author, array_to_string(mentions, ',')) FROM womgr.note WHERE tenant_id = :t AND note_id = :n1),
          'internal|zawadi|hassan,juma,salma.dispatch', 'a note keeps its author, visibility and the people it mentions');
SELECT is((SELECT details FROM womgr.work_order_event WHERE tenant_id = :t AND work_order_id = :w AND event_type = 'note_added'),
          jsonb_build_object('note_id', :n1, 'visibility', 'internal', 'mentions', '["hassan", "juma", "salma.dispatch"]'::jsonb),
          'the note_added event lists the mentions for notification, without the text');
SELECT womgr.add_note(:t, :w, 'We will be back tomorrow at 9 with the part.', 'customer') AS n2 \gset
SELECT is((SELECT array_agg(visibility ORDER BY note_id) FROM womgr.note WHERE tenant_id = :t AND work_order_id = :w),
          ARRAY['internal', 'customer'], 'notes for the customer are marked as such');
SELECT is((SELECT mentions FROM womgr.note WHERE tenant_id = :t AND note_id = :n2), '{}'::text[], 'no mentions, none stored');
SELECT womgr.add_note(:t, :w, 'mail ops@maji.co.ke about it') AS n3 \gset
SELECT is((SELECT mentions FROM womgr.note WHERE tenant_id = :t AND note_id = :n3), '{}'::text[], 'an e-mail address is not a mention');
SELECT throws_ok(format('SELECT womgr.add_note(%s, %s, %L)', :t, :w, '  '), '22023', 'note must not be empty', 'add_note: blank');
SELECT throws_ok(format('SELECT womgr.add_note(%s, %s, NULL)', :t, :w), '22023', 'note must not be empty', 'add_note: null');
SELECT throws_ok(format('SELECT womgr.add_note(%s, %s, repeat(%L, 20001))', :t, :w, 'x'), '22001', 'note is too long', 'add_note: too long');
SELECT throws_ok(format('SELECT womgr.add_note(%s, %s, %L, %L)', :t, :w, 'hi', 'public'), '22023', 'note visibility "public" is not known',
                 'add_note: unknown visibility');
SELECT throws_ok(format('SELECT womgr.add_note(%s, 999999, %L)', :t, 'hi'), 'P0002', NULL, 'add_note: unknown work order');

-- attachments: recorded once per file, with hash, size, type, time and place
SELECT womgr.add_attachment(:t, :w, '{"kind": "photo_before", "sha256": "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08",
                                      "size_bytes": 1843200, "mime_type": "image/jpeg", "storage_uri": "s3://maji/wo/burst-before.jpg",
                                      "captured_at": "2026-11-24T08:42:10+03:00", "location": {"lat": -4.0435, "lon": 39.7181},
                                      "caption": "Pipe before repair"}') AS att1 \gset
SELECT is((SELECT concat_ws('|', kind, encode(content_hash, 'hex'), size_bytes, mime_type, captured_at = '2026-11-24T08:42:10+03:00', uploaded_by)
             FROM womgr.attachment WHERE tenant_id = :t AND attachment_id = :att1),
          'photo_before|9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08|1843200|image/jpeg|t|zawadi',
          'an attachment keeps its SHA-256, size, type, capture time and uploader');
SELECT is(womgr.add_attachment(:t, :w, '{"kind": "photo_before", "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                                         "size_bytes": 1843200, "mime_type": "image/jpeg", "storage_uri": "s3://maji/wo/retry.jpg"}'),
          :att1::bigint, 'the same file sent again (an offline retry) is recorded once');
SELECT is((SELECT count(*)::int FROM womgr.work_order_event WHERE tenant_id = :t AND work_order_id = :w AND event_type = 'attachment_added'), 1,
          'with one event');
SELECT throws_ok(format('SELECT womgr.add_attachment(%s, %s, %L)', :t, :w, '{"kind": "video", "sha256": "' || repeat('a', 64) || '", "size_bytes": 1, "mime_type": "video/mp4", "storage_uri": "s3://x"}'),
                 '22023', NULL, 'add_attachment: unknown kind');
SELECT throws_ok(format('SELECT womgr.add_attachment(%s, %s, %L)', :t, :w, '{"kind": "document", "sha256": "abc", "size_bytes": 1, "mime_type": "application/pdf", "storage_uri": "s3://x"}'),
                 '22023', 'field "sha256" of the attachment spec is not a SHA-256 digest', 'add_attachment: short hash');
SELECT throws_ok(format('SELECT womgr.add_attachment(%s, %s, %L)', :t, :w, '{"kind": "document", "sha256": "' || repeat('a', 64) || '", "size_bytes": 0, "mime_type": "application/pdf", "storage_uri": "s3://x"}'),
                 '22003', NULL, 'add_attachment: empty file');
SELECT throws_ok(format('SELECT womgr.add_attachment(%s, %s, %L)', :t, :w, '{"kind": "document", "sha256": "' || repeat('a', 64) || '", "size_bytes": 1, "mime_type": "pdf", "storage_uri": "s3://x"}'),
                 '22023', NULL, 'add_attachment: bad MIME type');
SELECT throws_ok(format('SELECT womgr.add_attachment(%s, %s, %L)', :t, :w, '{"kind": "signature", "sha256": "' || repeat('a', 64) || '", "size_bytes": 1, "mime_type": "image/png", "storage_uri": "s3://x"}'),
                 '22023', NULL, 'add_attachment: a signature without the signer');
SELECT throws_ok(format('SELECT womgr.add_attachment(%s, %s, %L)', :t, :w, '{"kind": "document", "signed_by": "x", "sha256": "' || repeat('a', 64) || '", "size_bytes": 1, "mime_type": "image/png", "storage_uri": "s3://x"}'),
                 '22023', NULL, 'add_attachment: a signer on a document');
SELECT throws_ok(format('SELECT womgr.add_attachment(%s, %s, %L)', :t, :w, '{"kind": "document", "sha256": "' || repeat('a', 64) || '", "size_bytes": 1, "mime_type": "application/pdf", "storage_uri": "s3://x", "captured_at": "yesterday"}'),
                 '22007', NULL, 'add_attachment: a capture time that is not ISO 8601');
SELECT throws_ok(format('SELECT womgr.add_attachment(%s, %s, %L)', :t, :w, '{"kind": "document", "sha256": "' || repeat('a', 64) || '", "size_bytes": 1, "mime_type": "application/pdf", "storage_uri": "s3://x", "location": {"lat": 91, "lon": 0}}'),
                 '22003', NULL, 'add_attachment: a place off the Earth');
SELECT throws_ok(format('SELECT womgr.add_attachment(%s, %s, %L)', :t, :w, '{"kind": "document", "sha256": "' || repeat('a', 64) || '", "size_bytes": 1, "mime_type": "application/pdf"}'),
                 '22004', NULL, 'add_attachment: no storage URI');
SELECT throws_ok(format('SELECT womgr.add_attachment(%s, %s, %L)', :t, :w, '{"kind": "document", "sha256": "' || repeat('a', 64) || '", "size_bytes": 1, "mime_type": "application/pdf", "storage_uri": "s3://x", "owner": "me"}'),
                 '22023', NULL, 'add_attachment: unknown key');
SELECT throws_ok(format('SELECT womgr.confirm_completion(%s, %s, %L)', :t, :w, ' '), '22004', NULL, 'confirm_completion: no one confirmed');

-- service requests: triage, approval, conversion that keeps the link and the attachments
SELECT womgr.set_context(:t, 'portal', NULL, NULL) \gset
SELECT womgr.create_service_request(:t, jsonb_build_object('customer_id', :c, 'contact_id', :ct, 'channel', 'whatsapp',
                                                            'description', 'Water leaking through the ceiling of flat A4')) AS r \gset
SELECT womgr.add_request_attachment(:t, :r, jsonb_build_object('kind', 'photo_before', 'sha256', repeat('5', 64), 'size_bytes', 90000,
                                                                'mime_type', 'image/jpeg', 'storage_uri', 's3://maji/req/ceiling.jpg')) AS ratt \gset
SELECT is((SELECT concat_ws('|', status, channel, created_by) FROM womgr.service_request WHERE tenant_id = :t AND service_request_id = :r),
          'new|whatsapp|portal', 'a request starts new, with its channel and who took it');
SELECT throws_ok(format('SELECT womgr.convert_service_request(%s, %s)', :t, :r), '55000', NULL, 'an unapproved request is not converted');
SELECT womgr.set_context(:t, 'salma.dispatch', NULL, 'dispatcher') \gset
SELECT womgr.approve_service_request(:t, :r, 'urgent leak') \gset
SELECT throws_ok(format('SELECT womgr.convert_service_request(%s, %s)', :t, :r), '55000',
                 'service request ' || :r || ' needs a site and a type before it becomes a work order', 'conversion needs a site and a type');
SELECT womgr.triage_service_request(:t, :r, jsonb_build_object('site_id', :s, 'type', 'repair')) \gset
SELECT is((SELECT concat_ws('|', status, site_id) FROM womgr.service_request WHERE tenant_id = :t AND service_request_id = :r),
          concat_ws('|', 'approved', :s), 'an approved request can still be given its site and type, and stays approved');
SELECT isnt(womgr.convert_service_request(:t, :r), NULL, 'and is then converted');
SELECT womgr.create_service_request(:t, jsonb_build_object('customer_id', :c, 'description', 'Low water pressure, block A')) AS r2 \gset
SELECT womgr.add_request_attachment(:t, :r2, jsonb_build_object('kind', 'photo_before', 'sha256', repeat('6', 64), 'size_bytes', 90000,
                                                                 'mime_type', 'image/jpeg', 'storage_uri', 's3://maji/req/tap.jpg')) \gset
SELECT womgr.triage_service_request(:t, :r2, jsonb_build_object('site_id', :s, 'type', 'repair', 'priority', 'high')) \gset
SELECT is((SELECT concat_ws('|', status, triaged_by, site_id, work_order_type_id IS NOT NULL, priority_id IS NOT NULL)
             FROM womgr.service_request WHERE tenant_id = :t AND service_request_id = :r2),
          concat_ws('|', 'triaged', 'salma.dispatch', :s, true, true), 'triage sets site, type and priority');
SELECT womgr.approve_service_request(:t, :r2) \gset
SELECT womgr.convert_service_request(:t, :r2, '{"restricted": true}') AS w2 \gset
SELECT is((SELECT concat_ws('|', status, work_order_id) FROM womgr.service_request WHERE tenant_id = :t AND service_request_id = :r2),
          concat_ws('|', 'converted', :w2), 'the request links to its work order');
SELECT is((SELECT concat_ws('|', source, external_ref, ty.code, p.code, description, restricted)
             FROM womgr.work_order w JOIN womgr.work_order_type ty USING (tenant_id, work_order_type_id) JOIN womgr.priority p USING (tenant_id, priority_id)
            WHERE w.tenant_id = :t AND w.work_order_id = :w2),
          concat_ws('|', 'service_request', :r2, 'repair', 'high', 'Low water pressure, block A', true),
          'and the work order links back (source service_request, external_ref = the request id) with what triage decided');
SELECT is((SELECT array_agg(work_order_id) FROM womgr.attachment WHERE tenant_id = :t AND service_request_id = :r2), ARRAY[:w2]::bigint[],
          'the request''s attachments moved to the work order');
SELECT is((SELECT (details ->> 'attachments')::int FROM womgr.work_order_event WHERE tenant_id = :t AND work_order_id = :w2
              AND event_type = 'converted_from_request'), 1, 'the conversion is an event');
SELECT is(womgr.convert_service_request(:t, :r2), :w2::bigint, 'converting twice returns the same work order');
SELECT is((SELECT count(*)::int FROM womgr.work_order WHERE tenant_id = :t AND source = 'service_request'), 2,
          'and creates nothing (two requests, two work orders)');
SELECT womgr.update_work_order_type(:t, 'repair', '{"completion_requirements": {"min_after_photos": 1}}') \gset
SELECT womgr.create_service_request(:t, jsonb_build_object('customer_id', :c, 'site_id', :s, 'type', 'repair', 'description', 'Dripping tap')) AS r3 \gset
SELECT womgr.approve_service_request(:t, :r3) \gset
SELECT womgr.convert_service_request(:t, :r3, '{"completion_requirements": {"signature": true}}') AS w3 \gset
SELECT is((SELECT completion_requirements FROM womgr.work_order WHERE tenant_id = :t AND work_order_id = :w3),
          '{"signature": true, "min_after_photos": 1}'::jsonb, 'a converted request carries the type''s requirements and any added');
SELECT throws_ok(format('SELECT womgr.reject_service_request(%s, %s, %L)', :t, :r3, 'too late'), '55000', NULL,
                 'a converted request is not rejected');
SELECT womgr.create_service_request(:t, jsonb_build_object('customer_id', :c, 'description', 'Paint the gate')) AS r4 \gset
SELECT throws_ok(format('SELECT womgr.reject_service_request(%s, %s, NULL)', :t, :r4), '22004', 'a rejection needs a reason',
                 'reject_service_request: reason required');
SELECT womgr.reject_service_request(:t, :r4, 'we do not paint') \gset
SELECT is((SELECT concat_ws('|', status, decided_by, decision_reason) FROM womgr.service_request WHERE tenant_id = :t AND service_request_id = :r4),
          'rejected|salma.dispatch|we do not paint', 'a rejection is recorded with who and why');
SELECT throws_ok(format('SELECT womgr.approve_service_request(%s, %s)', :t, :r4), '55000', NULL, 'a rejected request is not approved');
SELECT throws_ok(format('SELECT womgr.add_request_attachment(%s, %s, %L)', :t, :r4,
                        jsonb_build_object('kind', 'document', 'sha256', repeat('7', 64), 'size_bytes', 1, 'mime_type', 'application/pdf', 'storage_uri', 's3://x')),
                 '55000', NULL, 'a rejected request takes no attachments');
SELECT throws_ok(format('SELECT womgr.create_service_request(%s, %L)', :t, jsonb_build_object('customer_id', :c, 'site_id', :s, 'description', 'x', 'channel', 'Fax Machine')),
                 '22023', NULL, 'create_service_request: bad channel');
SELECT throws_ok(format('SELECT womgr.create_service_request(%s, %L)', :t, jsonb_build_object('customer_id', :c_other, 'site_id', :s, 'description', 'x')),
                 '23503', NULL, 'create_service_request: a site of another customer');
SELECT throws_ok(format('SELECT womgr.create_service_request(%s, %L)', :t, jsonb_build_object('customer_id', 999999, 'description', 'x')),
                 '23503', NULL, 'create_service_request: unknown customer');
SELECT throws_ok(format('SELECT womgr.create_service_request(%s, %L)', :t, '{"description": "x"}'), '22004', NULL,
                 'create_service_request: no customer');
SELECT throws_ok(format('SELECT womgr.create_service_request(%s, %L)', :t, jsonb_build_object('customer_id', :c, 'description', 'x', 'type', 'nope')),
                 '23503', NULL, 'create_service_request: unknown type');
SELECT throws_ok(format('SELECT womgr.triage_service_request(%s, 999999)', :t), 'P0002', NULL, 'triage_service_request: unknown request');
SELECT throws_ok(format('SELECT womgr.create_service_request(%s, %L)', :t, jsonb_build_object('customer_id', :c, 'description', 'x', 'urgent', true)),
                 '22023', NULL, 'create_service_request: unknown key');

-- the outbox: every event of this transaction has its row, claimed once
SELECT is((SELECT count(*)::int FROM womgr.outbox o WHERE o.tenant_id = :t),
          (SELECT count(*)::int FROM womgr.work_order_event e WHERE e.tenant_id = :t), 'every event has an outbox row');
SELECT is((SELECT count(*)::int FROM womgr.outbox o JOIN womgr.work_order_event e
             ON e.tenant_id = o.tenant_id AND e.work_order_event_id = o.event_id
            WHERE o.tenant_id = :t AND o.topic = 'work_order.' || e.event_type AND o.payload ->> 'actor' = e.actor
              AND (o.payload ->> 'work_order_id')::bigint = e.work_order_id AND o.payload -> 'details' = e.details),
          (SELECT count(*)::int FROM womgr.work_order_event e WHERE e.tenant_id = :t), 'each carries its event');
SELECT is((SELECT array_agg(topic ORDER BY outbox_id) FROM womgr.outbox_claim(:t, 2)),
          (SELECT array_agg(topic ORDER BY outbox_id) FROM (SELECT topic, outbox_id FROM womgr.outbox WHERE tenant_id = :t ORDER BY outbox_id LIMIT 2) x),
          'outbox_claim hands out the oldest events');
SELECT is((SELECT count(*)::int FROM womgr.outbox WHERE tenant_id = :t AND claimed_at IS NOT NULL), 2, 'and marks them claimed');
SELECT is((SELECT count(*)::int FROM womgr.outbox_claim(:t, 10000)),
          (SELECT count(*)::int - 2 FROM womgr.outbox WHERE tenant_id = :t), 'the rest come in the next claim');
SELECT is((SELECT count(*)::int FROM womgr.outbox_claim(:t)), 0, 'and nothing is handed out twice');
SELECT throws_ok(format('SELECT * FROM womgr.outbox_claim(%s, 0)', :t), '22003', NULL, 'outbox_claim: limit 0');
SELECT throws_ok('SELECT * FROM womgr.outbox_claim(NULL)', '22004', NULL, 'outbox_claim: null tenant');

SELECT * FROM finish();
ROLLBACK;
