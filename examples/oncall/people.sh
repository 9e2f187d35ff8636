#!/bin/sh
# The people of examples/oncall/payments.yaml, stored with `srekit person add`.
set -e
srekit person add alice --email alice@example.com --timezone Europe/Berlin --team payments --contact slack=https://chat.example.com/hooks/payments-oncall
srekit person add bob --email bob@example.com --timezone Europe/Berlin --team payments
srekit person add carol --email carol@example.com --timezone Europe/Lisbon --team payments
srekit person add dave --timezone America/New_York --team payments --contact pagerduty=R0UT1NGK3YDAVE
srekit person add erin --timezone America/New_York --team payments
srekit person add frank --timezone Asia/Kolkata --team payments
srekit person add grace --email grace@example.com --timezone Europe/Berlin --team payments
srekit person add heidi --email heidi@example.com --timezone Europe/Berlin --team payments
