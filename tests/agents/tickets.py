"""Tickets as users write them: the symptom, never the root cause."""

TICKETS = {
    "clean": "Something feels off with our Stripe numbers this month, can you take a look?",
    "FM-01": "None of our Stripe webhooks seem to get through any more - our app hasn't "
             "recorded a single new payment or subscription since we deployed.",
    "FM-02": "A customer who just upgraded still shows the old plan in our app, and some "
             "subscriptions show past_due with us while Stripe says active.",
    "FM-03": "A customer got access to the same purchase twice - there are two active "
             "entitlements for one payment in our admin.",
    "FM-04": "We had an outage a few weeks ago and since then some customers and invoices "
             "are missing or out of date in our database.",
    "FM-05": "Since we set up the new endpoint, our invoices have no subscription linked and "
             "billing periods are empty in our database.",
    "FM-06": "Renewal invoices are finalized days late and customers get charged late.",
    "FM-07": "A customer was charged twice for the same order.",
    "FM-08": "There are customers and payments in our production database that Stripe says "
             "don't exist.",
    "FM-10": "Users whose first payment never went through still have full access.",
    "FM-11": "Our Japanese customers' payments show the wrong amount in our admin, way too "
             "small.",
    "FM-12": "Amounts for our customers in Bahrain look off by a factor in our reports.",
    "FM-13": "We shipped orders paid by bank debit that later failed; the customers still "
             "have the product.",
    "FM-14": "Checkout orders paid by bank transfer or delayed methods stay 'awaiting "
             "payment' forever even though Stripe shows them paid.",
    "FM-15": "Some invoices are paid in Stripe but stay open in our system.",
    "FM-16": "A customer paid an invoice by bank transfer but sent less than the total and "
             "our system marked it paid anyway.",
    "FM-17": "OXXO and boleto orders that customers never paid stay pending in our system "
             "forever.",
    "FM-19": "Customers whose cards failed weeks ago and whose subscriptions ended still "
             "have full access.",
    "FM-22": "Sales made on our sellers' connected accounts show up as our own platform "
             "customers, and the wrong people got access.",
    "FM-24": "A refund failed at the bank but our system still shows it as refunded.",
    "FM-25": "Older customers from before launch are missing in our database.",
    "FM-26": "We see two Stripe customers for the same signup email.",
    "FM-30": "Customers are billed for more API usage than our own usage records show.",
    "FM-32": "A customer disputed a payment, we lost the money, and they still have access.",
    "FM-33": "Customers changed seats or their plan in the customer portal but our app "
             "still shows the old quantity.",
    "FM-34": "Trials that ended without a card are paused in Stripe but those users still "
             "have access in our app.",
}
