'use strict';
// The customer assignment form: the legal-entity picker offers only the chosen customer's
// legal entities, and its "+" creates one that the customer then acts for.
{
    const $ = django.jQuery;

    function chosenCustomer() {
        const customer = document.getElementById('id_customer');
        return customer && customer.value ? customer.value : '';
    }

    // The autocomplete asks the legal-entity admin; tell it whose entities to offer.
    $.ajaxPrefilter(function(options) {
        const data = typeof options.data === 'string' ? options.data : '';
        if (data.indexOf('model_name=customerassignment') !== -1 &&
                data.indexOf('field_name=legal_entity') !== -1 && chosenCustomer()) {
            options.data = data + '&customer=' + encodeURIComponent(chosenCustomer());
        }
    });

    function narrowAddLink() {
        const add = document.getElementById('add_id_legal_entity');
        if (!add) {
            return;
        }
        const url = new URL(add.getAttribute('href'), window.location.origin);
        if (chosenCustomer()) {
            url.searchParams.set('customer', chosenCustomer());
        } else {
            url.searchParams.delete('customer');
        }
        add.setAttribute('href', url.pathname + url.search);
    }

    $(document).ready(function() {
        narrowAddLink();
        $('#id_customer').on('change', function() {
            // Another customer: the entity chosen for the last one may not be theirs.
            $('#id_legal_entity').val(null).trigger('change');
            narrowAddLink();
        });
    });
}
