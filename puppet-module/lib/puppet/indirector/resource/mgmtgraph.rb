# frozen_string_literal: true

require 'puppet/indirector/code'
require 'puppet/resource'
require_relative '../../../puppet_x/mgmtgraph/collection'

# A storeconfigs backend for `puppet mgmtgraph`: select it with
#   --storeconfigs --storeconfigs_backend mgmtgraph
# It records each exported-resource collector's query and answers with the resources of the current
# PuppetX::Mgmtgraph::Collection (none unless some were fed in).
class Puppet::Resource::Mgmtgraph < Puppet::Indirector::Code
  desc 'Records collector queries and returns resources collected by mgmt-ts.'

  def search(request)
    collection = PuppetX::Mgmtgraph::Collection.current
    return [] unless collection

    collection.search(request.key, request.options[:filter], request.options[:scope])
  end

  def find(_request)
    nil
  end

  # Exported resources are reported in the catalog output; nothing is stored here.
  def save(_request)
    nil
  end
end
