-- payment: money received and its allocation to invoices (partial and
-- over-payment, customer credit), M-Pesa STK push requests and callbacks,
-- C2B confirmations and the unmatched queue, balances and aging.
-- Invoices carry VAT at 16 %: 1 x 1000 is 1160.00, and so on.
\set ECHO none
\i test/pgtap_setup.psql
CREATE EXTENSION IF NOT EXISTS womgr CASCADE;

BEGIN;
SELECT no_plan();

SELECT womgr.create_tenant('{"code": "pay-test", "name": "Jua Solar Ltd"}') AS t \gset
SELECT womgr.set_context(:t, 'wanjiru.accounts') \gset
SELECT womgr.set_billing_settings(:t, '{"mpesa_paybill": "522533"}') \gset
SELECT womgr.create_branch(:t, '{"code": "NBO", "name": "Nairobi"}') AS nbo \gset
SELECT womgr.create_customer(:t, jsonb_build_object('name', 'Amani Foods', 'account_code', 'AMANI01', 'phone', '0712 345 678', 'branch_id', :nbo)) AS c1 \gset
SELECT womgr.create_customer(:t, jsonb_build_object('name', 'Baraka Ltd', 'account_code', 'BRK-7', 'phone', '+254110000222', 'branch_id', :nbo)) AS c2 \gset
SELECT womgr.create_customer(:t, jsonb_build_object('name', 'Chui Traders', 'branch_id', :nbo)) AS c3 \gset
SELECT womgr.create_technician(:t, jsonb_build_object('name', 'Otieno Ouma', 'home_branch_id', :nbo)) AS tech \gset

-- invoices: inv1 1160.00 and inv2 580.00 for Amani, inv3 3480.00 and inv4 116.00 for Baraka
SELECT womgr.create_invoice(:t, jsonb_build_object('customer_id', :c1, 'lines', jsonb_build_array(
    jsonb_build_object('description', 'Inverter service', 'quantity', 1, 'unit_price', 1000)))) AS inv1 \gset
SELECT womgr.create_invoice(:t, jsonb_build_object('customer_id', :c1, 'lines', jsonb_build_array(
    jsonb_build_object('description', 'Fuses', 'quantity', 2, 'unit_price', 250)))) AS inv2 \gset
SELECT womgr.create_invoice(:t, jsonb_build_object('customer_id', :c2, 'lines', jsonb_build_array(
    jsonb_build_object('description', 'Panel cleaning', 'quantity', 1, 'unit_price', 3000)))) AS inv3 \gset
SELECT womgr.create_invoice(:t, jsonb_build_object('customer_id', :c2, 'lines', jsonb_build_array(
    jsonb_build_object('description', 'Call-out', 'quantity', 1, 'unit_price', 100)))) AS inv4 \gset
SELECT number AS inv1_no FROM womgr.invoice WHERE tenant_id = :t AND invoice_id = :inv1 \gset
SELECT is((SELECT array_agg(total ORDER BY invoice_id) FROM womgr.invoice_balance WHERE tenant_id = :t),
          ARRAY[1160.00, 580.00, 3480.00, 116.00], 'four issued invoices with VAT at 16 %');

-- partial payment: cash collected by a technician, 500 of 1160
SELECT womgr.record_payment(:t, jsonb_build_object('method', 'cash', 'amount', 500, 'customer_id', :c1, 'invoice_id', :inv1,
                                                   'collected_by_technician_id', :tech, 'payer_name', 'Amani cashier')) AS p_cash \gset
SELECT is((SELECT concat_ws('|', source, status, currency, branch_id = :nbo, created_by) FROM womgr.payment WHERE tenant_id = :t AND payment_id = :p_cash),
          'technician|matched|KES|t|wanjiru.accounts', 'cash collected by a technician, in the branch currency');
SELECT is((SELECT balance FROM womgr.invoice_balance WHERE tenant_id = :t AND invoice_id = :inv1), 660.00,
          'partial payment: 1160.00 - 500 leaves 660.00');

-- overpayment: a card payment of 1000 on the 660.00 left settles inv1 and leaves 340.00 of credit
SELECT womgr.record_payment(:t, jsonb_build_object('method', 'card', 'amount', '1000.00', 'invoice_id', :inv1, 'reference', 'AUTH-1')) AS p_card \gset
SELECT is((SELECT concat_ws('|', amount, allocated, unallocated) FROM womgr.payment_unallocated WHERE tenant_id = :t AND payment_id = :p_card),
          '1000.00|660.00|340.00', 'overpayment: 660.00 allocated, 340.00 stays as credit');
SELECT is((SELECT customer_id FROM womgr.payment WHERE tenant_id = :t AND payment_id = :p_card), :c1::bigint,
          'the customer defaults to the invoice''s');
SELECT is((SELECT balance FROM womgr.invoice_balance WHERE tenant_id = :t AND invoice_id = :inv1), 0.00, 'inv1 is settled');
SELECT is((SELECT count(*)::int FROM womgr.outbox WHERE tenant_id = :t AND topic = 'invoice.paid' AND (payload ->> 'invoice_id')::bigint = :inv1), 1,
          'settling an invoice writes invoice.paid');
SELECT is(womgr.record_payment(:t, jsonb_build_object('method', 'card', 'amount', 1000, 'customer_id', :c1, 'reference', 'AUTH-1')), :p_card::bigint,
          'record_payment: the same reference, amount and customer returns the existing payment');
SELECT is((SELECT count(*)::int FROM womgr.payment_allocation WHERE tenant_id = :t AND payment_id = :p_card), 1, 'and allocates nothing again');
SELECT throws_ok(format('SELECT womgr.record_payment(%s, %L)', :t, jsonb_build_object('method', 'card', 'amount', 999, 'customer_id', :c1, 'reference', 'AUTH-1')),
                 '23505', 'card payment reference "AUTH-1" is already used', 'record_payment: the same reference with another amount');
SELECT throws_ok(format('SELECT womgr.record_payment(%s, %L)', :t, jsonb_build_object('method', 'card', 'amount', 1000, 'customer_id', :c2, 'reference', 'AUTH-1')),
                 '23505', 'card payment reference "AUTH-1" is already used', 'record_payment: the same reference from another customer');

-- the credit is applied to the next invoice: inv2 580.00 - 340.00 = 240.00
SELECT is(womgr.apply_customer_credit(:t, :c1), 1, 'apply_customer_credit makes one allocation');
SELECT is((SELECT balance FROM womgr.invoice_balance WHERE tenant_id = :t AND invoice_id = :inv2), 240.00, 'inv2 has 240.00 left');
SELECT is((SELECT unallocated FROM womgr.payment_unallocated WHERE tenant_id = :t AND payment_id = :p_card), 0.00, 'the credit is used up');
SELECT is(womgr.apply_customer_credit(:t, :c1), 0, 'apply_customer_credit: nothing left to apply');
SELECT throws_ok(format('SELECT womgr.apply_customer_credit(%s, 999999)', :t), 'P0002', 'customer 999999 does not exist', 'apply_customer_credit: unknown customer');

-- allocate_payment: NULL amount, over-allocation (WM012), settled, draft, other customer, other currency
SELECT womgr.record_payment(:t, jsonb_build_object('method', 'bank_transfer', 'amount', 1000, 'customer_id', :c1, 'reference', 'FT2611AB')) AS p_bank \gset
SELECT throws_ok(format('SELECT womgr.allocate_payment(%s, %s, %s, 300)', :t, :p_bank, :inv2), 'WM012',
                 'allocation of 300 KES exceeds the balance of invoice ' || (SELECT number FROM womgr.invoice WHERE tenant_id = :t AND invoice_id = :inv2),
                 'allocate_payment: more than the invoice balance');
SELECT womgr.allocate_payment(:t, :p_bank, :inv2) AS a_bank \gset
SELECT is((SELECT amount FROM womgr.payment_allocation WHERE tenant_id = :t AND allocation_id = :a_bank), 240.00,
          'NULL amount: the smaller of 1000 left and the 240.00 balance');
SELECT throws_ok(format('SELECT womgr.allocate_payment(%s, %s, %s)', :t, :p_bank, :inv2), '55000', NULL, 'allocate_payment: settled invoice');
SELECT throws_ok(format('SELECT womgr.allocate_payment(%s, %s, %s, 10)', :t, :p_card, :inv3), '22023',
                 format('payment %s and invoice %s belong to different customers', :p_card, (SELECT number FROM womgr.invoice WHERE tenant_id = :t AND invoice_id = :inv3)),
                 'allocate_payment: invoice of another customer');
SELECT womgr.create_invoice(:t, jsonb_build_object('customer_id', :c1, 'lines', jsonb_build_array(
    jsonb_build_object('description', 'Battery', 'quantity', 1, 'unit_price', 5000)))) AS inv5 \gset
SELECT throws_ok(format('SELECT womgr.allocate_payment(%s, %s, %s, 800)', :t, :p_bank, :inv5), 'WM012',
                 format('allocation of 800 KES exceeds what is left of payment %s', :p_bank), 'allocate_payment: more than the payment has left (760.00)');
SELECT throws_ok(format('SELECT womgr.allocate_payment(%s, %s, %s, %s)', :t, :p_card, :inv5, 1), 'WM012',
                 format('payment %s is fully allocated', :p_card), 'allocate_payment: a fully allocated payment');
SELECT throws_ok(format('SELECT womgr.allocate_payment(%s, %s, %s, 0)', :t, :p_bank, :inv5), '22023', 'allocation amount must be positive', 'allocate_payment: zero');
SELECT throws_ok(format('SELECT womgr.allocate_payment(%s, %s, %s, 1.001)', :t, :p_bank, :inv5), '22023', NULL, 'allocate_payment: fractions of a cent');
SELECT womgr.set_billing_settings(:t, '{"issue_on_generate": false}') \gset
SELECT womgr.create_invoice(:t, jsonb_build_object('customer_id', :c1, 'lines', jsonb_build_array(
    jsonb_build_object('description', 'Quote', 'quantity', 1, 'unit_price', 100)))) AS draft \gset
SELECT womgr.set_billing_settings(:t, '{"issue_on_generate": true}') \gset
SELECT throws_ok(format('SELECT womgr.allocate_payment(%s, %s, %s)', :t, :p_bank, :draft), '55000',
                 format('invoice %s is a draft', :draft), 'allocate_payment: draft invoice');
SELECT womgr.record_payment(:t, jsonb_build_object('method', 'bank_transfer', 'amount', 50, 'currency', 'USD', 'customer_id', :c1)) AS p_usd \gset
SELECT throws_ok(format('SELECT womgr.allocate_payment(%s, %s, %s)', :t, :p_usd, :inv5), '22023', NULL, 'allocate_payment: another currency');
SELECT throws_ok(format('SELECT womgr.allocate_payment(%s, 999999, %s)', :t, :inv5), 'P0002', 'payment 999999 does not exist', 'allocate_payment: unknown payment');
SELECT throws_ok(format('SELECT womgr.allocate_payment(%s, %s, 999999)', :t, :p_bank), 'P0002', 'invoice 999999 does not exist', 'allocate_payment: unknown invoice');
SELECT throws_ok(format('SELECT womgr.allocate_payment(NULL, %s, %s)', :p_bank, :inv5), '22004', 'tenant must not be null', 'allocate_payment: null tenant');
SELECT is((SELECT sum(amount) FROM womgr.payment_allocation WHERE tenant_id = :t AND invoice_id = :inv5), NULL, 'failed allocations wrote nothing');

-- oldest first: 3500 for Baraka pays inv3 (3480.00) and 20.00 of inv4 (116.00)
SELECT womgr.record_payment(:t, jsonb_build_object('method', 'bank_transfer', 'amount', 3500, 'customer_id', :c2, 'allocate', 'oldest_first')) AS p_old \gset
SELECT is((SELECT array_agg(invoice_id || ':' || amount ORDER BY allocation_id) FROM womgr.payment_allocation WHERE tenant_id = :t AND payment_id = :p_old),
          ARRAY[:inv3 || ':3480.00', :inv4 || ':20.00'], 'allocate oldest_first: the older invoice first, the rest on the next');

-- record_payment: bad input
SELECT throws_ok(format('SELECT womgr.record_payment(%s, %L)', :t, jsonb_build_object('method', 'cheque', 'amount', 10, 'customer_id', :c1)),
                 '22023', 'field "method" of the payment spec has an invalid value "cheque"', 'record_payment: unknown method');
SELECT throws_ok(format('SELECT womgr.record_payment(%s, %L)', :t, jsonb_build_object('method', 'cash', 'amount', 0, 'customer_id', :c1)),
                 '22023', 'field "amount" of the payment spec must be positive', 'record_payment: zero amount');
SELECT throws_ok(format('SELECT womgr.record_payment(%s, %L)', :t, jsonb_build_object('method', 'cash', 'amount', 10.005, 'customer_id', :c1)),
                 '22023', 'field "amount" of the payment spec has more decimals than KES allows', 'record_payment: fractions of a cent');
SELECT throws_ok(format('SELECT womgr.record_payment(%s, %L)', :t, jsonb_build_object('method', 'card', 'amount', 10, 'customer_id', :c1, 'collected_by_technician_id', :tech)),
                 '22023', 'field "collected_by_technician_id" of the payment spec goes with method cash only', 'record_payment: technician with a card payment');
SELECT throws_ok(format('SELECT womgr.record_payment(%s, %L)', :t, jsonb_build_object('method', 'cash', 'amount', 10, 'customer_id', :c1, 'collected_by_technician_id', 999999)),
                 '23503', 'technician 999999 does not exist', 'record_payment: unknown technician');
SELECT throws_ok(format('SELECT womgr.record_payment(%s, %L)', :t, jsonb_build_object('method', 'cash', 'amount', 10, 'customer_id', 999999)),
                 '23503', 'customer 999999 does not exist', 'record_payment: unknown customer');
SELECT throws_ok(format('SELECT womgr.record_payment(%s, %L)', :t, jsonb_build_object('method', 'cash', 'amount', 10)),
                 '22004', 'the payment spec needs field "customer_id"', 'record_payment: no customer');
SELECT throws_ok(format('SELECT womgr.record_payment(%s, %L)', :t, jsonb_build_object('method', 'cash', 'amount', 10, 'customer_id', :c1, 'allocate', 'newest_first')),
                 '22023', 'field "allocate" of the payment spec has an invalid value "newest_first"', 'record_payment: unknown allocation rule');
SELECT throws_ok(format('SELECT womgr.record_payment(%s, %L)', :t, jsonb_build_object('method', 'cash', 'amount', 10, 'customer_id', :c1, 'tip', 5)),
                 '22023', 'unknown field "tip" in the payment spec', 'record_payment: unknown field');
SELECT throws_ok(format('SELECT womgr.record_payment(%s, %L)', :t, jsonb_build_object('method', 'cash', 'amount', 10, 'customer_id', :c1, 'received_at', '2099-01-01T00:00:00+03:00')),
                 '22023', 'field "received_at" of the payment spec is in the future', 'record_payment: received in the future');
SELECT throws_ok(format('SELECT womgr.record_payment(%s, %L)', :t, jsonb_build_object('method', 'cash', 'amount', 10, 'invoice_id', 999999)),
                 '23503', 'invoice 999999 does not exist', 'record_payment: unknown invoice');
SELECT throws_ok(format('SELECT womgr.record_payment(%s, %L)', :t, jsonb_build_object('method', 'cash', 'amount', 10, 'invoice_id', :inv1)),
                 '55000', NULL, 'record_payment: a settled invoice (nothing is recorded)');
SELECT throws_ok('SELECT womgr.record_payment(NULL, ''{}'')', '22004', 'tenant must not be null', 'record_payment: null tenant');
SELECT throws_ok(format('SELECT womgr.record_payment(%s, NULL)', :t), '22004', NULL, 'record_payment: null spec');

-- phone numbers are normalised to 2547XXXXXXXX / 2541XXXXXXXX
SELECT womgr.record_payment(:t, jsonb_build_object('method', 'mpesa', 'amount', 1, 'customer_id', :c3, 'reference', 'PH1', 'payer_phone', '0712 345-678')) AS ph1,
       womgr.record_payment(:t, jsonb_build_object('method', 'mpesa', 'amount', 1, 'customer_id', :c3, 'reference', 'PH2', 'payer_phone', '0110000222')) AS ph2,
       womgr.record_payment(:t, jsonb_build_object('method', 'mpesa', 'amount', 1, 'customer_id', :c3, 'reference', 'PH3', 'payer_phone', '+254 722 000 333')) AS ph3,
       womgr.record_payment(:t, jsonb_build_object('method', 'mpesa', 'amount', 1, 'customer_id', :c3, 'reference', 'PH4', 'payer_phone', '254101234567')) AS ph4 \gset
SELECT is((SELECT array_agg(payer_phone ORDER BY payment_id) FROM womgr.payment WHERE tenant_id = :t AND payment_id IN (:ph1, :ph2, :ph3, :ph4)),
          ARRAY['254712345678', '254110000222', '254722000333', '254101234567'], 'phones: 07.., 01.., +254 7.., 2541.. are normalised');
SELECT throws_ok(format('SELECT womgr.record_payment(%s, %L)', :t, jsonb_build_object('method', 'cash', 'amount', 1, 'customer_id', :c3, 'payer_phone', '0812345678')),
                 '22023', 'phone "0812345678" of the payment spec is not a Kenyan mobile number', 'bad phone: 08 is not a mobile prefix');
SELECT throws_ok(format('SELECT womgr.record_payment(%s, %L)', :t, jsonb_build_object('method', 'cash', 'amount', 1, 'customer_id', :c3, 'payer_phone', '+255712345678')),
                 '22023', NULL, 'bad phone: a Tanzanian number');
SELECT throws_ok(format('SELECT womgr.record_payment(%s, %L)', :t, jsonb_build_object('method', 'cash', 'amount', 1, 'customer_id', :c3, 'payer_phone', '07123456')),
                 '22023', NULL, 'bad phone: too short');

-- STK push: inv6 1740.00 for Amani
SELECT womgr.create_invoice(:t, jsonb_build_object('customer_id', :c1, 'lines', jsonb_build_array(
    jsonb_build_object('description', 'Wiring', 'quantity', 1, 'unit_price', 1500)))) AS inv6 \gset
SELECT number AS inv6_no FROM womgr.invoice WHERE tenant_id = :t AND invoice_id = :inv6 \gset
SELECT womgr.request_payment(:t, :inv6) AS r1 \gset
SELECT is((SELECT concat_ws('|', kind, customer_id = :c1, phone, amount, currency, account_reference = :'inv6_no', status)
             FROM womgr.payment_request WHERE tenant_id = :t AND payment_request_id = :r1),
          'stk_push|t|254712345678|1740.00|KES|t|pending', 'request_payment: the customer''s phone, the balance, the invoice number');
SELECT is((SELECT payload - 'payment_request_id' - 'invoice_id' - 'customer_id' - 'account_reference' FROM womgr.outbox
            WHERE tenant_id = :t AND topic = 'payment.requested' AND (payload ->> 'payment_request_id')::bigint = :r1),
          '{"kind": "stk_push", "till": null, "phone": "254712345678", "amount": 1740.00, "paybill": "522533", "currency": "KES", "transaction_type": "CustomerPayBillOnline"}'::jsonb,
          'payment.requested tells the app tier what to send to Safaricom');
SELECT is(womgr.request_payment(:t, :inv6), :r1::bigint, 'request_payment: while one is pending, asking again returns it');
SELECT isnt(womgr.request_payment(:t, :inv6, 'payment_link'), :r1::bigint, 'a payment link is a request of its own');
SELECT is((SELECT phone FROM womgr.payment_request WHERE tenant_id = :t AND invoice_id = :inv4),
          NULL, 'no request for inv4 yet');
SELECT womgr.request_payment(:t, :inv4, 'stk_push', '0722-000-333', 50) AS r_inv4 \gset
SELECT is((SELECT concat_ws('|', phone, amount) FROM womgr.payment_request WHERE tenant_id = :t AND payment_request_id = :r_inv4),
          '254722000333|50.00', 'request_payment: another phone and a part of the balance');
SELECT throws_ok(format('SELECT womgr.request_payment(%s, %s, %L)', :t, :inv5, 'sms'), '22023', 'payment request kind "sms" is not known', 'request_payment: unknown kind');
SELECT throws_ok(format('SELECT womgr.request_payment(%s, %s)', :t, :inv1), '55000', 'invoice ' || :'inv1_no' || ' is already settled', 'request_payment: settled invoice');
SELECT throws_ok(format('SELECT womgr.request_payment(%s, %s)', :t, :draft), '55000', format('invoice %s is a draft', :draft), 'request_payment: draft');
SELECT throws_ok(format('SELECT womgr.request_payment(%s, 999999)', :t), 'P0002', 'invoice 999999 does not exist', 'request_payment: unknown invoice');
SELECT throws_ok(format('SELECT womgr.request_payment(%s, %s, %L, %L)', :t, :inv5, 'stk_push', '0812345678'), '22023',
                 'phone "0812345678" of the payment request is not a Kenyan mobile number', 'request_payment: bad phone');
SELECT throws_ok(format('SELECT womgr.request_payment(%s, %s, %L, NULL, 100.50)', :t, :inv5, 'stk_push'), '22023',
                 'an M-Pesa STK push asks for whole shillings', 'request_payment: cents in an STK push');
SELECT throws_ok(format('SELECT womgr.request_payment(%s, %s, %L, NULL, 5801)', :t, :inv5, 'stk_push'), '22023', NULL,
                 'request_payment: more than the balance (5800.00)');
SELECT throws_ok(format('SELECT womgr.request_payment(%s, %s, %L, NULL, 0)', :t, :inv5, 'stk_push'), '22023', 'payment request amount must be positive',
                 'request_payment: zero');
SELECT womgr.create_invoice(:t, jsonb_build_object('customer_id', :c3, 'lines', jsonb_build_array(
    jsonb_build_object('description', 'Bulb', 'quantity', 1, 'unit_price', 99.99)))) AS inv7 \gset
SELECT throws_ok(format('SELECT womgr.request_payment(%s, %s)', :t, :inv7), '22004', format('customer %s has no phone', :c3),
                 'request_payment: a customer without a phone needs p_phone');

-- the app tier reports the ids Safaricom returned
SELECT womgr.payment_request_sent(:t, :r1, '29115-34620561-1', 'ws_CO_191220191020363925') \gset
SELECT womgr.payment_request_sent(:t, :r1, '29115-34620561-1', 'ws_CO_191220191020363925') \gset
SELECT is((SELECT concat_ws('|', merchant_request, checkout_request, sent_at IS NOT NULL) FROM womgr.payment_request WHERE tenant_id = :t AND payment_request_id = :r1),
          '29115-34620561-1|ws_CO_191220191020363925|t', 'payment_request_sent stores the ids (twice is harmless)');
SELECT throws_ok(format('SELECT womgr.payment_request_sent(%s, %s, %L, %L)', :t, :r1, 'x', 'ws_CO_OTHER'), '55000',
                 format('payment request %s was sent already', :r1), 'payment_request_sent: other ids for a sent request');
SELECT throws_ok(format('SELECT womgr.payment_request_sent(%s, %s, %L, %L)', :t, :r_inv4, 'x', 'ws_CO_191220191020363925'), '23505',
                 'payment request CheckoutRequestID "ws_CO_191220191020363925" is already used', 'payment_request_sent: a checkout id is unique');
SELECT throws_ok(format('SELECT womgr.payment_request_sent(%s, %s, NULL, %L)', :t, :r_inv4, 'ws_CO_X'), '22004', NULL, 'payment_request_sent: null id');
SELECT throws_ok(format('SELECT womgr.payment_request_sent(%s, 999999, %L, %L)', :t, 'x', 'ws_CO_X'), 'P0002', 'payment request 999999 does not exist',
                 'payment_request_sent: unknown request');

-- Safaricom refused the push outright: the app tier marks the request failed so a new one can be made
SELECT womgr.request_payment(:t, :inv5, 'payment_link', '0712345678') AS r_link \gset
SELECT womgr.payment_request_failed(:t, :r_link, 'Invalid Access Token') \gset
SELECT is((SELECT concat_ws('|', status, result_code IS NULL, result_desc) FROM womgr.payment_request WHERE tenant_id = :t AND payment_request_id = :r_link),
          'failed|t|Invalid Access Token', 'payment_request_failed marks the request failed with the reason');
SELECT throws_ok(format('SELECT womgr.payment_request_failed(%s, %s, %L)', :t, :r_link, 'again'), '55000', format('payment request %s is failed', :r_link),
                 'payment_request_failed: not pending');
SELECT throws_ok(format('SELECT womgr.payment_request_failed(%s, %s, %L)', :t, :r1, 'late'), '55000', format('payment request %s is sent', :r1),
                 'payment_request_failed: a sent request waits for its callback');
SELECT throws_ok(format('SELECT womgr.payment_request_failed(%s, %s, %L)', :t, :r_inv4, ' '), '22004', 'a failed payment request needs a reason',
                 'payment_request_failed: no reason');

-- the successful callback, exactly as Safaricom posts it
\set ok_cb '{"Body": {"stkCallback": {"MerchantRequestID": "29115-34620561-1", "CheckoutRequestID": "ws_CO_191220191020363925", "ResultCode": 0, "ResultDesc": "The service request is processed successfully.", "CallbackMetadata": {"Item": [{"Name": "Amount", "Value": 1740.00}, {"Name": "MpesaReceiptNumber", "Value": "NLJ7RT61SV"}, {"Name": "Balance"}, {"Name": "TransactionDate", "Value": 20261219102115}, {"Name": "PhoneNumber", "Value": 254712345678}]}}}}'
SELECT coalesce(max(outbox_id), 0) AS outbox_before FROM womgr.outbox WHERE tenant_id = :t \gset
SELECT womgr.record_mpesa_callback(:t, :'ok_cb') AS p_stk \gset
SELECT is((SELECT concat_ws('|', method, source, status, customer_id = :c1, amount, reference, received_at = '2026-12-19 10:21:15+03', payer_phone)
             FROM womgr.payment WHERE tenant_id = :t AND payment_id = :p_stk),
          'mpesa|stk_push|matched|t|1740.00|NLJ7RT61SV|t|254712345678',
          'callback: a payment with the receipt, Nairobi transaction time and phone');
SELECT is((SELECT balance FROM womgr.invoice_balance WHERE tenant_id = :t AND invoice_id = :inv6), 0.00, 'callback: the invoice is paid');
SELECT is((SELECT concat_ws('|', status, result_code, payment_id = :p_stk, completed_at IS NOT NULL) FROM womgr.payment_request
            WHERE tenant_id = :t AND payment_request_id = :r1), 'succeeded|0|t|t', 'callback: the request succeeded');
SELECT is((SELECT array_agg(topic ORDER BY outbox_id) FROM womgr.outbox WHERE tenant_id = :t AND outbox_id > :outbox_before),
          ARRAY['invoice.paid', 'payment.received'], 'callback: invoice.paid and payment.received');
SELECT is(womgr.record_mpesa_callback(:t, :'ok_cb'), :p_stk::bigint, 'the same callback twice returns the same payment');
SELECT is((SELECT count(*)::int FROM womgr.payment WHERE tenant_id = :t AND reference = 'NLJ7RT61SV'), 1, 'and records one payment');
SELECT is((SELECT count(*)::int FROM womgr.mpesa_callback WHERE tenant_id = :t AND checkout_request = 'ws_CO_191220191020363925'), 1, 'and logs one callback');
SELECT throws_ok(format('SELECT womgr.record_mpesa_callback(%s, %L)', :t, jsonb_set(:'ok_cb', '{Body,stkCallback,CallbackMetadata,Item,1,Value}', '"OTHER00001"')),
                 '23505', 'mpesa callback for CheckoutRequestID "ws_CO_191220191020363925" was recorded already with another result',
                 'a second, different callback for the same checkout');

-- a failed callback: the payer cancelled
SELECT womgr.payment_request_sent(:t, :r_inv4, '16813-1590513-1', 'ws_CO_CANCELLED01') \gset
SELECT count(*) AS pay_before FROM womgr.payment WHERE tenant_id = :t \gset
SELECT is(womgr.record_mpesa_callback(:t, '{"Body": {"stkCallback": {"MerchantRequestID": "16813-1590513-1", "CheckoutRequestID": "ws_CO_CANCELLED01", "ResultCode": 1032, "ResultDesc": "Request cancelled by user"}}}'),
          NULL, 'failed callback: no payment id');
SELECT is((SELECT count(*)::int FROM womgr.payment WHERE tenant_id = :t), :pay_before::int, 'failed callback: no payment');
SELECT is((SELECT concat_ws('|', status, result_code, result_desc) FROM womgr.payment_request WHERE tenant_id = :t AND payment_request_id = :r_inv4),
          'failed|1032|Request cancelled by user', 'failed callback: the request failed with the code and description');
SELECT is((SELECT concat_ws('|', outcome, result_code, payment_id IS NULL) FROM womgr.mpesa_callback WHERE tenant_id = :t AND checkout_request = 'ws_CO_CANCELLED01'),
          'failed|1032|t', 'failed callback: the attempt is logged');
SELECT is((SELECT payload ->> 'result_code' FROM womgr.outbox WHERE tenant_id = :t AND topic = 'payment.failed' AND (payload ->> 'payment_request_id')::bigint = :r_inv4), '1032', 'failed callback: payment.failed');
SELECT isnt(womgr.request_payment(:t, :inv4, 'stk_push', '0722000333', 50), :r_inv4::bigint, 'after a failure a new request can be made');

-- malformed callbacks raise and write nothing
SELECT count(*) AS cb_before FROM womgr.mpesa_callback WHERE tenant_id = :t \gset
SELECT count(*) AS pay_before FROM womgr.payment WHERE tenant_id = :t \gset
SELECT throws_ok(format('SELECT womgr.record_mpesa_callback(%s, NULL)', :t), '22004', 'mpesa callback must not be null', 'malformed callback: null');
SELECT throws_ok(format('SELECT womgr.record_mpesa_callback(%s, %L)', :t, '[1, 2]'), '22023', 'mpesa callback must be a JSON object', 'malformed callback: an array');
SELECT throws_ok(format('SELECT womgr.record_mpesa_callback(%s, %L)', :t, '{"Body": {}}'), '22023', 'mpesa callback has no "Body.stkCallback"',
                 'malformed callback: no stkCallback');
SELECT throws_ok(format('SELECT womgr.record_mpesa_callback(%s, %L)', :t, :'ok_cb'::jsonb #- '{Body,stkCallback,CheckoutRequestID}'), '22023',
                 'mpesa callback has no "Body.stkCallback.CheckoutRequestID"', 'malformed callback: no CheckoutRequestID');
SELECT throws_ok(format('SELECT womgr.record_mpesa_callback(%s, %L)', :t, jsonb_set(:'ok_cb', '{Body,stkCallback,CheckoutRequestID}', '42')), '22023',
                 'mpesa callback field "Body.stkCallback.CheckoutRequestID" must be a non-empty string', 'malformed callback: CheckoutRequestID is a number');
SELECT throws_ok(format('SELECT womgr.record_mpesa_callback(%s, %L)', :t, jsonb_set(:'ok_cb', '{Body,stkCallback,CheckoutRequestID}', '"ws_CO_NEW"') #- '{Body,stkCallback,ResultCode}'), '22023',
                 'mpesa callback has no "Body.stkCallback.ResultCode"', 'malformed callback: no ResultCode');
SELECT throws_ok(format('SELECT womgr.record_mpesa_callback(%s, %L)', :t, jsonb_set(:'ok_cb', '{Body,stkCallback,ResultCode}', '"ok"')), '22023',
                 'mpesa callback field "Body.stkCallback.ResultCode" must be an integer', 'malformed callback: ResultCode is not a number');
SELECT throws_ok(format('SELECT womgr.record_mpesa_callback(%s, %L)', :t, :'ok_cb'::jsonb #- '{Body,stkCallback,CallbackMetadata}'), '22023',
                 'mpesa callback has no "Body.stkCallback.CallbackMetadata.Item"', 'malformed callback: success without metadata');
SELECT throws_ok(format('SELECT womgr.record_mpesa_callback(%s, %L)', :t, :'ok_cb'::jsonb #- '{Body,stkCallback,CallbackMetadata,Item,0}'), '22023',
                 'mpesa callback has no "Body.stkCallback.CallbackMetadata.Item[Amount]"', 'malformed callback: success without Amount');
SELECT throws_ok(format('SELECT womgr.record_mpesa_callback(%s, %L)', :t, jsonb_set(:'ok_cb', '{Body,stkCallback,CallbackMetadata,Item,0,Value}', '-5')), '22023',
                 'mpesa callback field "Body.stkCallback.CallbackMetadata.Item[Amount]" must be a positive amount', 'malformed callback: negative Amount');
SELECT throws_ok(format('SELECT womgr.record_mpesa_callback(%s, %L)', :t, jsonb_set(:'ok_cb', '{Body,stkCallback,CallbackMetadata,Item,0,Value}', '"ten"')), '22023',
                 'mpesa callback field "Body.stkCallback.CallbackMetadata.Item[Amount]" must be a positive amount', 'malformed callback: Amount is not a number');
SELECT throws_ok(format('SELECT womgr.record_mpesa_callback(%s, %L)', :t, :'ok_cb'::jsonb #- '{Body,stkCallback,CallbackMetadata,Item,1}'), '22023',
                 'mpesa callback has no "Body.stkCallback.CallbackMetadata.Item[MpesaReceiptNumber]"', 'malformed callback: success without a receipt');
SELECT throws_ok(format('SELECT womgr.record_mpesa_callback(%s, %L)', :t, jsonb_set(:'ok_cb', '{Body,stkCallback,CallbackMetadata,Item,3,Value}', '20261319102115')), '22023',
                 'mpesa callback field "Body.stkCallback.CallbackMetadata.Item[TransactionDate]" is not a date and time YYYYMMDDHHMMSS', 'malformed callback: month 13');
SELECT throws_ok(format('SELECT womgr.record_mpesa_callback(%s, %L)', :t, :'ok_cb'::jsonb #- '{Body,stkCallback,CallbackMetadata,Item,3}'), '22023',
                 'mpesa callback has no "Body.stkCallback.CallbackMetadata.Item[TransactionDate]"', 'malformed callback: success without a date');
SELECT is((SELECT count(*) FROM womgr.mpesa_callback WHERE tenant_id = :t), :cb_before::bigint, 'malformed callbacks logged nothing');
SELECT is((SELECT count(*) FROM womgr.payment WHERE tenant_id = :t), :pay_before::bigint, 'malformed callbacks recorded no payment');

-- a callback that overtakes payment_request_sent waits as unmatched, and is applied when the ids arrive
SELECT womgr.request_payment(:t, :inv7, 'stk_push', '0733111222') AS r7 \gset
SELECT is((SELECT amount FROM womgr.payment_request WHERE tenant_id = :t AND payment_request_id = :r7), 116::numeric,
          'an STK push asks for whole shillings: 115.99 rounded up to 116');
SELECT womgr.record_mpesa_callback(:t, '{"Body": {"stkCallback": {"MerchantRequestID": "7-7-7", "CheckoutRequestID": "ws_CO_EARLY", "ResultCode": 0, "ResultDesc": "ok", "CallbackMetadata": {"Item": [{"Name": "Amount", "Value": 116}, {"Name": "MpesaReceiptNumber", "Value": "QEA1BC2DE3"}, {"Name": "TransactionDate", "Value": "20261220080000"}, {"Name": "PhoneNumber", "Value": 254733111222}]}}}}') AS p_early \gset
SELECT is((SELECT concat_ws('|', status, customer_id IS NULL) FROM womgr.payment WHERE tenant_id = :t AND payment_id = :p_early), 'unmatched|t',
          'a callback no request knows leaves an unmatched payment');
SELECT is((SELECT outcome FROM womgr.mpesa_callback WHERE tenant_id = :t AND checkout_request = 'ws_CO_EARLY'), 'unmatched', 'and an unmatched callback');
SELECT womgr.payment_request_sent(:t, :r7, '7-7-7', 'ws_CO_EARLY') \gset
SELECT is((SELECT concat_ws('|', p.status, p.customer_id = :c3, r.status, r.payment_id = :p_early, c.outcome)
             FROM womgr.payment p, womgr.payment_request r, womgr.mpesa_callback c
            WHERE p.tenant_id = :t AND p.payment_id = :p_early AND r.tenant_id = :t AND r.payment_request_id = :r7
              AND c.tenant_id = :t AND c.checkout_request = 'ws_CO_EARLY'),
          'matched|t|succeeded|t|succeeded', 'payment_request_sent applies the early callback to its request');
SELECT is((SELECT concat_ws('|', allocated, unallocated) FROM womgr.payment_unallocated WHERE tenant_id = :t AND payment_id = :p_early),
          '115.99|0.01', 'STK overpayment: 115.99 paid, 0.01 stays as credit');

-- C2B confirmations
\set c2b '{"TransactionType": "Pay Bill", "TransID": "RKTQDM7W6S", "TransTime": "20261201093000", "TransAmount": "5000.00", "BusinessShortCode": "522533", "InvoiceNumber": "", "OrgAccountBalance": "49197.00", "ThirdPartyTransID": "", "MSISDN": "254712345678", "FirstName": "John", "MiddleName": "", "LastName": "Kamau"}'
SELECT womgr.record_mpesa_c2b(:t, jsonb_set(:'c2b', '{BillRefNumber}', to_jsonb(' ' || lower((SELECT number FROM womgr.invoice WHERE tenant_id = :t AND invoice_id = :inv5)) || ' '))) AS p_c2b \gset
SELECT is((SELECT concat_ws('|', source, status, customer_id = :c1, amount, received_at = '2026-12-01 09:30:00+03', payer_name, payer_phone)
             FROM womgr.payment WHERE tenant_id = :t AND payment_id = :p_c2b),
          'c2b|matched|t|5000.00|t|John Kamau|254712345678', 'C2B matched by invoice number (any case, spaces trimmed)');
SELECT is((SELECT array_agg(invoice_id || ':' || amount) FROM womgr.payment_allocation WHERE tenant_id = :t AND payment_id = :p_c2b),
          ARRAY[:inv5 || ':5000.00'], 'C2B: allocated to that invoice');
SELECT is((SELECT balance FROM womgr.invoice_balance WHERE tenant_id = :t AND invoice_id = :inv5), 800.00, 'C2B: 5800.00 - 5000.00 leaves 800.00');
SELECT is(womgr.record_mpesa_c2b(:t, jsonb_set(:'c2b', '{BillRefNumber}', '"whatever"')), :p_c2b::bigint, 'C2B: the same TransID returns the same payment');
SELECT throws_ok(format('SELECT womgr.record_mpesa_c2b(%s, %L)', :t, jsonb_set(:'c2b', '{TransAmount}', '"5001.00"')), '23505',
                 'mpesa receipt "RKTQDM7W6S" is already recorded with another amount', 'C2B: the same TransID with another amount');
SELECT is(womgr.record_mpesa_c2b(:t, jsonb_set(jsonb_set(:'c2b', '{TransID}', '"NLJ7RT61SV"'), '{TransAmount}', '"1740.00"')), :p_stk::bigint,
          'C2B of a transaction the STK callback recorded returns that payment');
-- by account code: Baraka's oldest open invoice is inv4 (96.00 left after 20.00)
SELECT womgr.record_mpesa_c2b(:t, jsonb_set(jsonb_set(jsonb_set(:'c2b', '{TransID}', '"RKT0000002"'), '{TransAmount}', '"200"'), '{BillRefNumber}', '"brk-7"')) AS p_acct \gset
SELECT is((SELECT concat_ws('|', customer_id = :c2, allocated, unallocated) FROM womgr.payment_unallocated WHERE tenant_id = :t AND payment_id = :p_acct),
          't|96.00|104.00', 'C2B matched by account code: 96.00 to the open invoice, 104.00 credit');
-- unmatched, then matched by hand
SELECT womgr.record_mpesa_c2b(:t, jsonb_set(jsonb_set(jsonb_set(:'c2b', '{TransID}', '"RKT0000003"'), '{TransAmount}', '"300.00"'), '{BillRefNumber}', '"JUA SOLAR"')) AS p_un \gset
SELECT is((SELECT concat_ws('|', account_reference, amount) FROM womgr.unmatched_payments WHERE tenant_id = :t AND payment_id = :p_un),
          'JUA SOLAR|300.00', 'C2B with an unknown account waits in unmatched_payments');
SELECT throws_ok(format('SELECT womgr.allocate_payment(%s, %s, %s)', :t, :p_un, :inv5), '55000', format('payment %s is unmatched', :p_un),
                 'allocate_payment: an unmatched payment');
SELECT throws_ok(format('SELECT womgr.match_payment(%s, %s, 999999)', :t, :p_un), '23503', 'customer 999999 does not exist', 'match_payment: unknown customer');
SELECT throws_ok(format('SELECT womgr.match_payment(%s, %s, %s, %s)', :t, :p_un, :c2, :inv5), '22023', NULL, 'match_payment: invoice of another customer');
SELECT is(womgr.match_payment(:t, :p_un, :c1, :inv5), 1, 'match_payment makes one allocation');
SELECT is((SELECT concat_ws('|', status, customer_id = :c1, matched_by) FROM womgr.payment WHERE tenant_id = :t AND payment_id = :p_un),
          'matched|t|wanjiru.accounts', 'match_payment records the customer and who matched it');
SELECT is((SELECT balance FROM womgr.invoice_balance WHERE tenant_id = :t AND invoice_id = :inv5), 500.00, 'inv5: 800.00 - 300.00 = 500.00');
SELECT is((SELECT count(*)::int FROM womgr.unmatched_payments WHERE tenant_id = :t), 0, 'the unmatched queue is empty');
SELECT throws_ok(format('SELECT womgr.match_payment(%s, %s, %s)', :t, :p_un, :c1), '55000', format('payment %s is already matched', :p_un),
                 'match_payment: already matched');
SELECT throws_ok(format('SELECT womgr.record_mpesa_c2b(%s, %L)', :t, :'c2b'::jsonb - 'TransID'), '22023', 'mpesa c2b confirmation has no "TransID"', 'malformed C2B: no TransID');
SELECT throws_ok(format('SELECT womgr.record_mpesa_c2b(%s, %L)', :t, jsonb_set(:'c2b', '{TransAmount}', '"5,000"')), '22023',
                 'mpesa c2b confirmation field "TransAmount" must be a positive amount', 'malformed C2B: amount with a comma');
SELECT throws_ok(format('SELECT womgr.record_mpesa_c2b(%s, %L)', :t, jsonb_set(:'c2b', '{TransTime}', '"2026-12-01"')), '22023',
                 'mpesa c2b confirmation field "TransTime" is not a date and time YYYYMMDDHHMMSS', 'malformed C2B: bad time');
SELECT throws_ok(format('SELECT womgr.record_mpesa_c2b(%s, %L)', :t, '"x"'), '22023', 'mpesa c2b confirmation must be a JSON object', 'malformed C2B: a string');
SELECT throws_ok(format('SELECT womgr.record_mpesa_c2b(%s, NULL)', :t), '22004', 'mpesa c2b confirmation must not be null', 'malformed C2B: null');
SELECT womgr.record_mpesa_c2b(:t, jsonb_set(jsonb_set(jsonb_set(:'c2b', '{TransID}', '"RKT0000004"'), '{TransactionType}', '"Buy Goods"'), '{BillRefNumber}', '""')) AS p_till \gset
SELECT is((SELECT concat_ws('|', status, account_reference IS NULL, amount) FROM womgr.payment WHERE tenant_id = :t AND payment_id = :p_till),
          'unmatched|t|5000.00', 'a till payment has no account reference: it waits for the accountant');
SELECT is(womgr.match_payment(:t, :p_till, :c2), 0, 'match_payment without an invoice: nothing of Baraka''s is open, all credit');

-- balances and aging: Chui Traders (inv7 115.99, settled by STK) pays 2000 cash; inv8 580.00 and inv9 1160.00 follow
SELECT womgr.record_payment(:t, jsonb_build_object('method', 'cash', 'amount', 2000, 'customer_id', :c3)) AS p_chui \gset
SELECT womgr.create_invoice(:t, jsonb_build_object('customer_id', :c3, 'lines', jsonb_build_array(
    jsonb_build_object('description', 'Controller', 'quantity', 1, 'unit_price', 500)))) AS inv8 \gset
SELECT womgr.create_invoice(:t, jsonb_build_object('customer_id', :c3, 'lines', jsonb_build_array(
    jsonb_build_object('description', 'Panel', 'quantity', 1, 'unit_price', 1000)))) AS inv9 \gset
-- paid: 4 x 1 (phone checks) + 116 (STK) + 2000 = 2120; allocated 115.99; credit 4 + 0.01 + 2000 = 2004.01
SELECT is((SELECT concat_ws('|', invoiced, credited, paid, balance_due, unallocated_credit) FROM womgr.customer_balance WHERE tenant_id = :t AND customer_id = :c3),
          '1855.99|0|2120.00|1740.00|2004.01', 'customer_balance: invoiced 115.99 + 580.00 + 1160.00, paid, due and credit');
SELECT due_date AS due8 FROM womgr.invoice WHERE tenant_id = :t AND invoice_id = :inv8 \gset
SELECT is((SELECT concat_ws('|', days_overdue, bucket, balance) FROM womgr.receivables_aging(:t, :'due8'::date + 45) WHERE invoice_id = :inv8),
          '45|31-60|580.00', 'aging: 45 days past due is in 31-60');
SELECT is((SELECT array_agg(bucket ORDER BY d) FROM unnest(ARRAY[0, 1, 30, 31, 60, 61, 90, 91]) d,
                  womgr.receivables_aging(:t, :'due8'::date + d) r WHERE r.invoice_id = :inv8),
          ARRAY['current', '1-30', '1-30', '31-60', '31-60', '61-90', '61-90', '90+'], 'aging buckets at their edges');
SELECT is((SELECT count(*)::int FROM womgr.receivables_aging WHERE tenant_id = :t AND bucket = 'current'),
          (SELECT count(*)::int FROM womgr.invoice_balance WHERE tenant_id = :t AND balance > 0), 'the view ages as of today: nothing is overdue yet');
SELECT throws_ok(format('SELECT * FROM womgr.receivables_aging(%s, NULL)', :t), '22004', 'aging date must not be null', 'receivables_aging: null date');
SELECT is(womgr.apply_customer_credit(:t, :c3), 6, 'apply_customer_credit: four 1.00 payments to inv8, then the cash to inv8 and inv9');
-- oldest received first: 1.00 x 4 to inv8 (580.00 -> 576.00), the cash pays 576.00 and inv9's 1160.00; 0.01 (received later) finds nothing open
SELECT is((SELECT concat_ws('|', balance_due, unallocated_credit) FROM womgr.customer_balance WHERE tenant_id = :t AND customer_id = :c3),
          '0.00|264.01', 'after applying the credit: nothing due, 2004.01 - 1740.00 = 264.01 left');
SELECT is((SELECT count(*)::int FROM womgr.receivables_aging(:t, :'due8'::date + 45) WHERE customer_id = :c3), 0, 'settled invoices are not aged');

SELECT * FROM finish();
ROLLBACK;
