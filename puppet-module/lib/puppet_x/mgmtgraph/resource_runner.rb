# frozen_string_literal: true

require_relative 'json_encoder'

module PuppetX
  module Mgmtgraph
    # Applies ONE resource through Puppet's RAL, the fallback path for resources mgmt-ts cannot translate.
    # Input is a resource as the catalog has it: {type, title, parameters, sensitive}. Results are read from
    # the transaction report, never from log output.
    class ResourceRunner
      RELATIONSHIP_METAPARAMS = %w[before require notify subscribe stage].freeze
      REDACTED = '[redacted]'

      def initialize(spec)
        raise ArgumentError, 'resource must be an object' unless spec.is_a?(Hash)

        @type = spec['type'].to_s
        @title = spec['title']
        raise ArgumentError, 'resource needs a type and a title' if @type.empty? || @title.nil? || @title == ''

        params = spec['parameters'] || {}
        raise ArgumentError, 'parameters must be an object' unless params.is_a?(Hash)

        @params = JsonDecoder.decode(params)
        @sensitive = Array(spec['sensitive']).map(&:to_s)
      end

      # Noop run: is the resource in sync, and what would change?
      def check
        status = run(noop: true)
        changes = status.events.map do |event|
          { 'property' => event.property.to_s,
            'previous' => value_of(event, event.previous_value),
            'desired' => value_of(event, event.desired_value) }
        end
        { 'in_sync' => !status.out_of_sync && !status.failed, 'changes' => changes,
          'failed' => status.failed ? true : false, 'error' => failure_message(status) }
      end

      def apply
        status = run(noop: false)
        events = status.events.map do |event|
          { 'property' => event.property.to_s, 'status' => event.status.to_s,
            'message' => event.redacted || sensitive?(event.property) ? nil : event.message,
            'previous' => value_of(event, event.previous_value),
            'desired' => value_of(event, event.desired_value) }
        end
        { 'changed' => status.changed ? true : false, 'failed' => status.failed ? true : false,
          'error' => failure_message(status), 'events' => events }
      end

      # What Puppet's event manager does when a refresh event arrives.
      def refresh
        ral = ral_catalog.resource(ref)
        unless ral.respond_to?(:refresh)
          return { 'refreshed' => false, 'error' => { 'message' => "#{ref} does not support refresh" } }
        end

        ral.refresh
        { 'refreshed' => true, 'error' => nil }
      end

      private

      def ref
        @ref ||= Puppet::Resource.new(@type, @title).ref
      end

      def puppet_type
        @puppet_type ||= Puppet::Type.type(@type.downcase) or raise ArgumentError, "Unknown resource type #{@type}"
      end

      def resource(noop: false)
        res = Puppet::Resource.new(puppet_type, @title)
        @params.each { |name, value| res[name] = value unless RELATIONSHIP_METAPARAMS.include?(name) }
        # Sensitive values: the RAL does not take Sensitive-wrapped values from a Puppet::Resource ("Munging
        # failed"); like a compiled catalog, it takes the plain value plus `sensitive_parameters`, and then
        # redacts the property in events and logs.
        res.sensitive_parameters = @sensitive.map(&:to_sym).select { |name| @params.key?(name.to_s) }
        namevar = puppet_type.key_attributes.first
        res[namevar] = @title if namevar && res[namevar].nil? && puppet_type.key_attributes.size == 1
        res[:noop] = true if noop
        res
      end

      def ral_catalog(noop: false)
        catalog = Puppet::Resource::Catalog.new('mgmtgraph-worker', Puppet.lookup(:current_environment))
        catalog.host_config = false
        catalog.add_resource(resource(noop: noop))
        catalog.to_ral
      end

      def run(noop:)
        catalog = ral_catalog(noop: noop)
        @report = catalog.apply.report
        @report.resource_statuses[ref] or raise Puppet::Error, "No status for #{ref} in the report"
      end

      def sensitive?(property)
        @sensitive.include?(property.to_s)
      end

      def value_of(event, value)
        return REDACTED if !value.nil? && (event.redacted || sensitive?(event.property))

        JsonEncoder.encode(value)
      end

      def failure_message(status)
        return nil unless status.failed

        failure = status.events.find { |e| e.status.to_s == 'failure' }
        message = failure&.message || @report.logs.select { |l| l.level == :err }.map(&:message).last
        { 'message' => message || "#{ref} failed" }
      end
    end
  end
end
