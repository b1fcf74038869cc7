-- escrow: a work order split into milestones paid through escrow: deposit,
-- hold, approve, release (paid to the milestone's invoice), refund and
-- cancel; every illegal move with its SQLSTATE and the balances unchanged
-- after it; the append-only ledger, the outbox and bad input.
\set ECHO none
\i test/pgtap_setup.psql
CREATE EXTENSION IF NOT EXISTS womgr CASCADE;

BEGIN;
SELECT no_plan();

SELECT womgr.create_tenant('{"code": "esc-test", "name": "Jua Solar Installers Ltd", "work_order_prefix": "JS"}') AS t \gset
SELECT womgr.create_tenant('{"code": "esc-other", "name": "Other Co"}') AS t_other \gset
SELECT womgr.create_branch(:t, '{"code": "NBO", "name": "Nairobi", "timezone": "Africa/Nairobi", "currency": "KES"}') AS nbo \gset
SELECT womgr.create_customer(:t, jsonb_build_object('name', 'Karen Villas', 'branch_id', :nbo)) AS c \gset
SELECT womgr.create_site(:t, jsonb_build_object('customer_id', :c, 'name', 'Villa 7')) AS s \gset
SELECT womgr.create_work_order(:t, jsonb_build_object('customer_id', :c, 'site_id', :s, 'type', 'installation',
                                                       'description', '5 kW rooftop solar', 'branch_id', :nbo)) AS w \gset
SELECT womgr.create_work_order(:t, jsonb_build_object('customer_id', :c, 'site_id', :s, 'type', 'installation',
                                                       'description', 'Battery bank', 'branch_id', :nbo)) AS w2 \gset
SELECT womgr.update_work_order(:t, :w, '{"quoted_amount": 100000}') \gset
SELECT womgr.update_work_order(:t, :w2, '{"quoted_amount": 1000}') \gset
SELECT womgr.set_context(:t, 'wanjiku.accounts', NULL, 'admin') \gset

-- create_milestones: split the job; the sum may reach the quote
SELECT is(womgr.create_milestones(:t, :w, '[{"name": "Deposit", "amount": 20000}, {"name": "First fix", "amount": 50000},
                                            {"name": "Handover", "amount": 30000}]'), 3, 'create_milestones returns the count');
SELECT milestone_id AS m1 FROM womgr.milestone WHERE tenant_id = :t AND work_order_id = :w AND seq = 1 \gset
SELECT milestone_id AS m2 FROM womgr.milestone WHERE tenant_id = :t AND work_order_id = :w AND seq = 2 \gset
SELECT milestone_id AS m3 FROM womgr.milestone WHERE tenant_id = :t AND work_order_id = :w AND seq = 3 \gset
SELECT is((SELECT array_agg(concat_ws('|', seq, name, amount, currency, status, deposited, held, released, refunded) ORDER BY seq)
             FROM womgr.milestone_status WHERE tenant_id = :t AND work_order_id = :w),
          ARRAY['1|Deposit|20000.00|KES|pending|0|0|0|0', '2|First fix|50000.00|KES|pending|0|0|0|0', '3|Handover|30000.00|KES|pending|0|0|0|0'],
          'three pending milestones in the branch currency, nothing in escrow');
SELECT is((SELECT details ->> 'total' FROM womgr.work_order_event WHERE tenant_id = :t AND work_order_id = :w AND event_type = 'milestones_created'),
          '100000.00', 'the split is a work-order event');
SELECT throws_ok(format('SELECT womgr.create_milestones(%s, %s, %L)', :t, :w, '[{"name": "Extra", "amount": 1}]'),
                 '55000', NULL, 'create_milestones: the job already has milestones');
SELECT throws_ok(format('SELECT womgr.create_milestones(%s, %s, %L)', :t, :w2, '[{"name": "A", "amount": 600}, {"name": "B", "amount": 400.01}]'),
                 '22023', NULL, 'create_milestones: the sum exceeds the quoted amount');
SELECT throws_ok(format('SELECT womgr.create_milestones(%s, %s, %L)', :t, :w2, '[{"name": "A", "amount": 0}]'),
                 '22023', 'milestone amount must be positive', 'create_milestones: zero amount');
SELECT throws_ok(format('SELECT womgr.create_milestones(%s, %s, %L)', :t, :w2, '[{"name": "A", "amount": -50}]'),
                 '22023', 'milestone amount must be positive', 'create_milestones: negative amount');
SELECT throws_ok(format('SELECT womgr.create_milestones(%s, %s, %L)', :t, :w2, '[{"name": "A", "amount": 10.005}]'),
                 '22023', 'milestone amount 10.005 is not an amount of KES', 'create_milestones: amount below the minor unit');
SELECT throws_ok(format('SELECT womgr.create_milestones(%s, %s, %L)', :t, :w2, '[{"amount": 10}]'),
                 '22004', NULL, 'create_milestones: milestone without a name');
SELECT throws_ok(format('SELECT womgr.create_milestones(%s, %s, %L)', :t, :w2, '[{"name": "A", "amount": 10, "due": "soon"}]'),
                 '22023', NULL, 'create_milestones: unknown field');
SELECT throws_ok(format('SELECT womgr.create_milestones(%s, %s, %L)', :t, :w2, '[]'),
                 '22023', 'milestones must be a JSON array of 1 to 100 milestones', 'create_milestones: empty array');
SELECT throws_ok(format('SELECT womgr.create_milestones(%s, %s, %L)', :t, :w2, '{"name": "A", "amount": 10}'),
                 '22023', 'milestones must be a JSON array of 1 to 100 milestones', 'create_milestones: an object, not an array');
SELECT throws_ok(format('SELECT womgr.create_milestones(%s, %s, NULL)', :t, :w2), '22004', 'milestones must not be null',
                 'create_milestones: null milestones');
SELECT throws_ok(format('SELECT womgr.create_milestones(%s, NULL, %L)', :t, '[{"name": "A", "amount": 10}]'),
                 '22004', 'work order id must not be null', 'create_milestones: null work order');
SELECT throws_ok(format('SELECT womgr.create_milestones(%s, 999999, %L)', :t, '[{"name": "A", "amount": 10}]'),
                 'P0002', 'work order 999999 does not exist', 'create_milestones: unknown work order');
SELECT throws_ok(format('SELECT womgr.create_milestones(NULL, %s, %L)', :w2, '[{"name": "A", "amount": 10}]'),
                 '22004', 'tenant must not be null', 'create_milestones: null tenant');
SELECT is((SELECT count(*)::int FROM womgr.milestone WHERE tenant_id = :t AND work_order_id = :w2), 0,
          'no refused split left a milestone behind');

-- deposit: up to the milestone amount; a provider reference counts once
SELECT womgr.escrow_deposit(:t, :m1, 15000, 'QKX1A2B3C4') AS mv_dep1 \gset
SELECT is((SELECT concat_ws('|', kind, amount, reference, actor) FROM womgr.escrow_movement WHERE tenant_id = :t AND movement_id = :mv_dep1),
          'deposit|15000.00|QKX1A2B3C4|wanjiku.accounts', 'a deposit is a movement with its reference and actor');
SELECT is(womgr.escrow_deposit(:t, :m1, 15000, 'QKX1A2B3C4'), :mv_dep1::bigint, 'the same deposit again returns the first movement');
SELECT throws_ok(format('SELECT womgr.escrow_deposit(%s, %s, 500, %L)', :t, :m1, 'QKX1A2B3C4'),
                 '23505', 'deposit reference "QKX1A2B3C4" is already used', 'escrow_deposit: a reference with another amount');
SELECT womgr.escrow_deposit(:t, :m1, 5000) \gset
SELECT is((SELECT concat_ws('|', deposited, held, released, refunded) FROM womgr.milestone WHERE tenant_id = :t AND milestone_id = :m1),
          '20000.00|0|0|0', 'two deposits: 15000 + 5000 deposited (the repeat counted once)');
SELECT throws_ok(format('SELECT womgr.escrow_deposit(%s, %s, 0.01)', :t, :m1), 'WM013', 'deposit of 0.01 would exceed milestone ' || :m1,
                 'escrow_deposit: above the milestone amount');

-- hold: part, too much, the rest, nothing left
SELECT womgr.escrow_hold(:t, :m1, 12000) \gset
SELECT is((SELECT concat_ws('|', deposited, held, released, refunded) FROM womgr.milestone WHERE tenant_id = :t AND milestone_id = :m1),
          '8000.00|12000.00|0|0', 'a partial hold moves 12000 from deposited to held');
SELECT throws_ok(format('SELECT womgr.escrow_hold(%s, %s, 9000)', :t, :m1), 'WM013', 'hold of 9000.00 exceeds what milestone ' || :m1 || ' has deposited',
                 'escrow_hold: more than deposited');
SELECT womgr.escrow_hold(:t, :m1) \gset
SELECT is((SELECT concat_ws('|', deposited, held, released, refunded) FROM womgr.milestone WHERE tenant_id = :t AND milestone_id = :m1),
          '0.00|20000.00|0|0', 'hold without an amount holds the rest');
SELECT throws_ok(format('SELECT womgr.escrow_hold(%s, %s)', :t, :m1), 'WM013', 'milestone ' || :m1 || ' has nothing deposited to hold',
                 'escrow_hold: nothing deposited');

-- release before approval is refused, and changes nothing
SELECT throws_ok(format('SELECT womgr.escrow_release(%s, %s)', :t, :m1), 'WM013', 'milestone ' || :m1 || ' is not approved',
                 'escrow_release: before approval');
SELECT is((SELECT concat_ws('|', status, deposited, held, released, refunded) FROM womgr.milestone WHERE tenant_id = :t AND milestone_id = :m1),
          'pending|0.00|20000.00|0|0', 'the refused moves changed no balance');
SELECT is((SELECT count(*)::int FROM womgr.escrow_movement WHERE tenant_id = :t AND milestone_id = :m1), 4,
          'and wrote no movement (2 deposits, 2 holds)');

-- approve, once
SELECT womgr.approve_milestone(:t, :m1, 'Survey and design accepted by the owner') \gset
SELECT is((SELECT concat_ws('|', status, approved_by, approval_note) FROM womgr.milestone WHERE tenant_id = :t AND milestone_id = :m1),
          'approved|wanjiku.accounts|Survey and design accepted by the owner', 'approve_milestone records who, and the note');
SELECT is((SELECT (details ->> 'milestone_id') || '|' || actor FROM womgr.work_order_event
            WHERE tenant_id = :t AND work_order_id = :w AND event_type = 'milestone_approved'),
          :m1 || '|wanjiku.accounts', 'approval is a milestone_approved work-order event');
SELECT throws_ok(format('SELECT womgr.approve_milestone(%s, %s)', :t, :m1), '55000', 'milestone ' || :m1 || ' is already approved',
                 'approve_milestone: twice');

-- invoice the milestone: the amount includes 16 % VAT; idempotent
SELECT womgr.invoice_milestone(:t, :m1) AS inv1 \gset
SELECT is(womgr.invoice_milestone(:t, :m1), :inv1::bigint, 'invoice_milestone again returns the same invoice');
SELECT is((SELECT count(*)::int FROM womgr.invoice WHERE tenant_id = :t AND milestone_id = :m1), 1, 'one invoice per milestone');
SELECT is((SELECT concat_ws('|', i.status, i.customer_id, i.work_order_id, i.subtotal, i.tax_total, i.total, i.currency)
             FROM womgr.invoice i WHERE i.tenant_id = :t AND i.invoice_id = :inv1),
          concat_ws('|', 'issued', :c, :w, '17241.38', '2758.62', '20000.00', 'KES'),
          'an issued invoice to the customer: 20000 including VAT = 17241.38 net + 2758.62 VAT');
SELECT is((SELECT concat_ws('|', kind, description, quantity, unit_price, tax_rate_percent)
             FROM womgr.invoice_line WHERE tenant_id = :t AND invoice_id = :inv1),
          'milestone|Milestone 1: Deposit|1.000|17241.38|16.000', 'one VAT-inclusive milestone line worth the milestone amount');

-- release: part, too much, the rest; each release pays the invoice
SELECT womgr.escrow_release(:t, :m1, 5000) AS mv_rel1 \gset
SELECT is((SELECT concat_ws('|', deposited, held, released, refunded) FROM womgr.milestone WHERE tenant_id = :t AND milestone_id = :m1),
          '0.00|15000.00|5000.00|0', 'a partial release moves 5000 from held to released');
SELECT is((SELECT concat_ws('|', p.method, p.source, p.status, p.customer_id, p.branch_id, p.amount, p.currency, p.created_by, a.amount, a.invoice_id)
             FROM womgr.payment p JOIN womgr.payment_allocation a ON a.tenant_id = p.tenant_id AND a.payment_id = p.payment_id
            WHERE p.tenant_id = :t AND p.reference = 'ESCROW-' || :mv_rel1),
          concat_ws('|', 'escrow', 'escrow', 'matched', :c, :nbo, '5000.00', 'KES', 'wanjiku.accounts', '5000.00', :inv1),
          'the release is an escrow payment from the customer, allocated to the milestone invoice');
SELECT is((SELECT balance FROM womgr.invoice_balance WHERE tenant_id = :t AND invoice_id = :inv1), 15000.00, 'invoice balance 20000 - 5000');
SELECT throws_ok(format('SELECT womgr.escrow_release(%s, %s, 16000)', :t, :m1), 'WM013', 'release of 16000.00 exceeds what milestone ' || :m1 || ' holds',
                 'escrow_release: more than held');
SELECT womgr.escrow_release(:t, :m1) AS mv_rel2 \gset
SELECT is((SELECT concat_ws('|', status, deposited, held, released, refunded) FROM womgr.milestone WHERE tenant_id = :t AND milestone_id = :m1),
          'approved|0.00|0.00|20000.00|0', 'release without an amount releases the rest');
SELECT is((SELECT concat_ws('|', sum(p.amount), sum(a.amount), count(*)) FROM womgr.payment p
             JOIN womgr.payment_allocation a ON a.tenant_id = p.tenant_id AND a.payment_id = p.payment_id
            WHERE p.tenant_id = :t AND p.method = 'escrow'),
          '20000.00|20000.00|2', 'two escrow payments of 20000 in all, all allocated');
SELECT is((SELECT concat_ws('|', invoice_number, invoice_balance) FROM womgr.milestone_status WHERE tenant_id = :t AND milestone_id = :m1),
          (SELECT number FROM womgr.invoice WHERE tenant_id = :t AND invoice_id = :inv1) || '|0.00',
          'milestone_status: the full release settled the milestone invoice');
SELECT throws_ok(format('SELECT womgr.escrow_release(%s, %s)', :t, :m1), 'WM013', 'milestone ' || :m1 || ' holds nothing to release',
                 'escrow_release: nothing held');
SELECT throws_ok(format('SELECT womgr.escrow_refund(%s, %s)', :t, :m1), 'WM013', 'milestone ' || :m1 || ' has nothing in escrow to refund',
                 'escrow_refund: after approval and full release');
SELECT throws_ok(format('SELECT womgr.cancel_milestone(%s, %s, %L)', :t, :m1, 'changed mind'), '55000', 'milestone ' || :m1 || ' is approved',
                 'cancel_milestone: approved');
SELECT is((SELECT concat_ws('|', status, deposited, held, released, refunded) FROM womgr.milestone WHERE tenant_id = :t AND milestone_id = :m1),
          'approved|0.00|0.00|20000.00|0', 'the refused moves changed nothing');

-- the ledger adds up to the balances, and cannot be changed
SELECT is((SELECT array_agg(kind || ':' || amount ORDER BY movement_id) FROM womgr.escrow_movement WHERE tenant_id = :t AND milestone_id = :m1),
          ARRAY['deposit:15000.00', 'deposit:5000.00', 'hold:12000.00', 'hold:8000.00', 'release:5000.00', 'release:15000.00'],
          'the ledger of milestone 1');
SELECT is((SELECT array_agg(topic ORDER BY outbox_id) FROM womgr.outbox WHERE tenant_id = :t AND topic LIKE 'escrow.%'),
          ARRAY['escrow.deposit', 'escrow.deposit', 'escrow.hold', 'escrow.hold', 'escrow.release', 'escrow.release'],
          'each move wrote an outbox notice, the repeated deposit none');
SELECT is((SELECT concat_ws('|', payload ->> 'milestone_id', payload ->> 'amount', payload ->> 'released', payload ->> 'held',
                            (payload ->> 'payment_id')::bigint = (SELECT payment_id FROM womgr.payment WHERE tenant_id = :t AND reference = 'ESCROW-' || :mv_rel2))
             FROM womgr.outbox WHERE tenant_id = :t AND topic = 'escrow.release' AND (payload ->> 'movement_id')::bigint = :mv_rel2),
          :m1 || '|15000.00|20000.00|0.00|t', 'the release notice carries the balances after it and the payment');
SELECT throws_ok(format('UPDATE womgr.escrow_movement SET amount = 1 WHERE tenant_id = %s AND movement_id = %s', :t, :mv_rel1),
                 '55000', 'escrow_movement is append-only', 'escrow_movement: no update');
SELECT throws_ok(format('DELETE FROM womgr.escrow_movement WHERE tenant_id = %s AND movement_id = %s', :t, :mv_rel1),
                 '55000', 'escrow_movement is append-only', 'escrow_movement: no delete');
SELECT throws_ok(format('UPDATE womgr.milestone SET held = held - 1 WHERE tenant_id = %s AND milestone_id = %s', :t, :m1),
                 '23514', NULL, 'the CHECKs keep a balance from going negative');
SELECT throws_ok(format('UPDATE womgr.milestone SET deposited = 1 WHERE tenant_id = %s AND milestone_id = %s', :t, :m1),
                 '23514', NULL, 'and deposited + held + released from passing the amount');

-- refund: from held first, then deposited
SELECT womgr.escrow_deposit(:t, :m2, 30000) \gset
SELECT womgr.escrow_hold(:t, :m2, 10000) \gset
SELECT womgr.escrow_refund(:t, :m2, 25000) AS mv_ref1 \gset
SELECT is((SELECT concat_ws('|', deposited, held, released, refunded) FROM womgr.milestone WHERE tenant_id = :t AND milestone_id = :m2),
          '5000.00|0.00|0|25000.00', 'a refund of 25000 empties held (10000), then takes 15000 of deposited');
SELECT is((SELECT concat_ws('|', kind, amount, from_held, from_deposited) FROM womgr.escrow_movement WHERE tenant_id = :t AND movement_id = :mv_ref1),
          'refund|25000.00|10000.00|15000.00', 'the refund movement says where the money came from');
SELECT throws_ok(format('SELECT womgr.escrow_refund(%s, %s, 6000)', :t, :m2), 'WM013', 'refund of 6000.00 exceeds what milestone ' || :m2 || ' has in escrow',
                 'escrow_refund: more than in escrow');
SELECT womgr.escrow_refund(:t, :m2) \gset
SELECT is((SELECT concat_ws('|', deposited, held, released, refunded) FROM womgr.milestone WHERE tenant_id = :t AND milestone_id = :m2),
          '0.00|0.00|0|30000.00', 'refund without an amount returns the rest');
SELECT is((SELECT count(*)::int FROM womgr.payment WHERE tenant_id = :t AND details ->> 'milestone_id' = :m2::text), 0,
          'refunds record no payment');

-- cancel: only pending milestones with nothing in escrow; then nothing moves
SELECT throws_ok(format('SELECT womgr.cancel_milestone(%s, %s, NULL)', :t, :m2), '22004', 'cancelling a milestone needs a reason',
                 'cancel_milestone: no reason');
SELECT womgr.cancel_milestone(:t, :m2, 'Customer buys the panels direct') \gset
SELECT is((SELECT concat_ws('|', status, cancelled_by, cancel_reason) FROM womgr.milestone WHERE tenant_id = :t AND milestone_id = :m2),
          'cancelled|wanjiku.accounts|Customer buys the panels direct', 'cancel_milestone records who and why');
SELECT throws_ok(format('SELECT womgr.escrow_deposit(%s, %s, 100)', :t, :m2), '55000', 'cannot deposit: milestone ' || :m2 || ' is cancelled',
                 'escrow_deposit: cancelled milestone');
SELECT throws_ok(format('SELECT womgr.escrow_hold(%s, %s)', :t, :m2), '55000', NULL, 'escrow_hold: cancelled milestone');
SELECT throws_ok(format('SELECT womgr.escrow_release(%s, %s)', :t, :m2), '55000', NULL, 'escrow_release: cancelled milestone');
SELECT throws_ok(format('SELECT womgr.escrow_refund(%s, %s)', :t, :m2), '55000', NULL, 'escrow_refund: cancelled milestone');
SELECT throws_ok(format('SELECT womgr.approve_milestone(%s, %s)', :t, :m2), '55000', NULL, 'approve_milestone: cancelled milestone');
SELECT throws_ok(format('SELECT womgr.cancel_milestone(%s, %s, %L)', :t, :m2, 'again'), '55000', NULL, 'cancel_milestone: twice');
SELECT throws_ok(format('SELECT womgr.invoice_milestone(%s, %s)', :t, :m2), '55000', 'cannot invoice: milestone ' || :m2 || ' is cancelled',
                 'invoice_milestone: cancelled milestone');
SELECT is((SELECT concat_ws('|', status, deposited, held, released, refunded) FROM womgr.milestone WHERE tenant_id = :t AND milestone_id = :m2),
          'cancelled|0.00|0.00|0|30000.00', 'nothing moved on the cancelled milestone');

-- release before the invoice exists: the payment is recorded when it is invoiced
SELECT womgr.escrow_deposit(:t, :m3, 30000) \gset
SELECT womgr.escrow_hold(:t, :m3) \gset
SELECT throws_ok(format('SELECT womgr.cancel_milestone(%s, %s, %L)', :t, :m3, 'dropped'), '55000',
                 'milestone ' || :m3 || ' still has money in escrow', 'cancel_milestone: money held');
SELECT womgr.approve_milestone(:t, :m3) \gset
SELECT womgr.escrow_release(:t, :m3) AS mv_rel3 \gset
SELECT is((SELECT count(*)::int FROM womgr.payment WHERE tenant_id = :t AND reference = 'ESCROW-' || :mv_rel3), 0,
          'a release without an invoice records no payment yet');
SELECT womgr.invoice_milestone(:t, :m3) AS inv3 \gset
SELECT is((SELECT concat_ws('|', p.amount, a.amount, a.invoice_id) FROM womgr.payment p
             JOIN womgr.payment_allocation a ON a.tenant_id = p.tenant_id AND a.payment_id = p.payment_id
            WHERE p.tenant_id = :t AND p.reference = 'ESCROW-' || :mv_rel3),
          concat_ws('|', '30000.00', '30000.00', :inv3), 'invoicing the milestone records the earlier release as its payment');
SELECT is((SELECT invoice_balance FROM womgr.milestone_status WHERE tenant_id = :t AND milestone_id = :m3), 0.00,
          'the handover invoice (30000 including VAT) is settled by the release');
SELECT is(womgr.invoice_milestone(:t, :m3), :inv3::bigint, 'invoicing it again returns the invoice');
SELECT is((SELECT count(*)::int FROM womgr.payment WHERE tenant_id = :t AND reference = 'ESCROW-' || :mv_rel3), 1,
          'and records no second payment');

-- bad input
SELECT throws_ok(format('SELECT womgr.escrow_deposit(%s, NULL, 100)', :t), '22004', 'milestone id must not be null', 'escrow_deposit: null milestone');
SELECT throws_ok(format('SELECT womgr.escrow_hold(%s, NULL)', :t), '22004', 'milestone id must not be null', 'escrow_hold: null milestone');
SELECT throws_ok(format('SELECT womgr.approve_milestone(%s, NULL)', :t), '22004', 'milestone id must not be null', 'approve_milestone: null milestone');
SELECT throws_ok(format('SELECT womgr.escrow_release(%s, NULL)', :t), '22004', 'milestone id must not be null', 'escrow_release: null milestone');
SELECT throws_ok(format('SELECT womgr.escrow_refund(%s, NULL)', :t), '22004', 'milestone id must not be null', 'escrow_refund: null milestone');
SELECT throws_ok(format('SELECT womgr.cancel_milestone(%s, NULL, %L)', :t, 'x'), '22004', 'milestone id must not be null', 'cancel_milestone: null milestone');
SELECT throws_ok(format('SELECT womgr.invoice_milestone(%s, NULL)', :t), '22004', 'milestone id must not be null', 'invoice_milestone: null milestone');
SELECT throws_ok(format('SELECT womgr.escrow_deposit(NULL, %s, 100)', :m1), '22004', 'tenant must not be null', 'escrow_deposit: null tenant');
SELECT throws_ok(format('SELECT womgr.escrow_deposit(%s, 999999, 100)', :t), 'P0002', 'milestone 999999 does not exist', 'escrow_deposit: unknown milestone');
SELECT throws_ok(format('SELECT womgr.escrow_hold(%s, 999999)', :t), 'P0002', 'milestone 999999 does not exist', 'escrow_hold: unknown milestone');
SELECT throws_ok(format('SELECT womgr.approve_milestone(%s, 999999)', :t), 'P0002', 'milestone 999999 does not exist', 'approve_milestone: unknown milestone');
SELECT throws_ok(format('SELECT womgr.escrow_release(%s, 999999)', :t), 'P0002', 'milestone 999999 does not exist', 'escrow_release: unknown milestone');
SELECT throws_ok(format('SELECT womgr.escrow_refund(%s, 999999)', :t), 'P0002', 'milestone 999999 does not exist', 'escrow_refund: unknown milestone');
SELECT throws_ok(format('SELECT womgr.cancel_milestone(%s, 999999, %L)', :t, 'x'), 'P0002', 'milestone 999999 does not exist', 'cancel_milestone: unknown milestone');
SELECT throws_ok(format('SELECT womgr.invoice_milestone(%s, 999999)', :t), 'P0002', 'milestone 999999 does not exist', 'invoice_milestone: unknown milestone');
SELECT throws_ok(format('SELECT womgr.escrow_deposit(%s, %s, 100)', :t_other, :m1), 'P0002', NULL, 'escrow_deposit: another tenant''s milestone');
SELECT throws_ok(format('SELECT womgr.escrow_deposit(%s, %s, NULL)', :t, :m3), '22004', 'deposit amount must not be null', 'escrow_deposit: null amount');
SELECT throws_ok(format('SELECT womgr.escrow_deposit(%s, %s, 0)', :t, :m3), '22023', 'deposit amount must be positive', 'escrow_deposit: zero');
SELECT throws_ok(format('SELECT womgr.escrow_deposit(%s, %s, -100)', :t, :m3), '22023', 'deposit amount must be positive', 'escrow_deposit: negative');
SELECT throws_ok(format('SELECT womgr.escrow_deposit(%s, %s, 1.234)', :t, :m3), '22023', 'deposit amount 1.234 is not an amount of KES',
                 'escrow_deposit: below the minor unit');
SELECT throws_ok(format('SELECT womgr.escrow_deposit(%s, %s, 100, %L)', :t, :m3, ' '), '22023', 'deposit reference must not be empty',
                 'escrow_deposit: empty reference');
SELECT throws_ok(format('SELECT womgr.escrow_hold(%s, %s, 0)', :t, :m3), '22023', 'hold amount must be positive', 'escrow_hold: zero');
SELECT throws_ok(format('SELECT womgr.escrow_release(%s, %s, -5)', :t, :m3), '22023', 'release amount must be positive', 'escrow_release: negative');
SELECT throws_ok(format('SELECT womgr.escrow_refund(%s, %s, 0)', :t, :m3), '22023', 'refund amount must be positive', 'escrow_refund: zero');
SELECT is((SELECT concat_ws('|', status, deposited, held, released, refunded) FROM womgr.milestone WHERE tenant_id = :t AND milestone_id = :m3),
          'approved|0.00|0.00|30000.00|0', 'bad input changed nothing');

SELECT * FROM finish();
ROLLBACK;
