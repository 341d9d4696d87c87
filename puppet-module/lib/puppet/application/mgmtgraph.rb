# frozen_string_literal: true

require 'puppet/application/face_base'
require_relative '../../puppet_x/mgmtgraph/start_up_cost'

# Before the face loads: its loading and every compile pay them otherwise.
PuppetX::Mgmtgraph::StartUpCost.remove!

# `puppet mgmtgraph ...`: Puppet needs an application class to dispatch a face subcommand.
class Puppet::Application::Mgmtgraph < Puppet::Application::FaceBase
  # The environment need not exist when the face starts: each compile looks it up afresh and reports a missing one
  # as a compile error naming the environmentpath (a long-lived worker keeps serving, and sees it once created).
  environment_mode :not_required
end
